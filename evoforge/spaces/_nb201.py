from __future__ import annotations

import functools
import itertools
import random
from typing import Any

from evoforge.design import Design
from evoforge.spaces._base import Space

NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NB201_EDGES = 6  # edges of the 4-node cell DAG, in arch-string order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2
_EDGE_NAMES = ("1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2")
_EDGE_NODES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))  # (to, from) per edge
_SHORT = {"nor_conv_1x1": "c1", "nor_conv_3x3": "c3", "avg_pool_3x3": "p"}
# Path encoding: the sequence of non-identity operations along each input-to-output path, counted.
_PATHS = [seq for n in range(4) for seq in itertools.product(("c1", "c3", "p"), repeat=n)]
_PATH_INDEX = {seq: i for i, seq in enumerate(_PATHS)}


@functools.lru_cache(maxsize=1 << 16)
def _cell_function(ops: tuple[str, ...]) -> str:
    return cell_function(list(ops))


def cell_function(ops: list[str]) -> str:
    """The function a cell computes, as a canonical expression: equal for cells that compute the same function.

    Node 0 is the input ``x``; each later node is the sum of its incoming edges, each edge an operation on an
    earlier node. Node 1, when two live edges read it and it holds weights, is written ``N{...}``: one shared
    computation is not the same network as two copies with weights of their own. ``none`` contributes nothing;
    ``skip_connect`` passes a node through, so its terms join the sum; a convolution of a node that computes zero is
    a learnable constant (its batch norm's bias, ``b``); pooling or passing on zero is zero. Sums are sorted, so
    the order of edges and the numbering of the two middle nodes do not matter. Branches that never reach the
    output, isomorphic cells and chains of skips all vanish from the key.
    """
    nodes: dict[int, list[str]] = {0: ["x"]}
    # Node 1 is the only node two live edges can read (2<-1 when node 2 reaches the output, and 3<-1).
    shared = ops[4] != "none" and ops[2] != "none" and ops[5] != "none"
    for j in (1, 2, 3):
        terms: list[str] = []
        for (dst, src), op in zip(_EDGE_NODES, ops, strict=True):
            if dst != j or op == "none":
                continue
            value = nodes[src]
            if not value:
                if op.startswith("nor_conv"):
                    terms.append("b")
                continue
            body = "+".join(value)
            # A node with weights inside, read by several edges, is ONE computation that they share: not the same
            # function as separate copies of it (those have weights of their own).
            if src == 1 and shared and any(c in body for c in ("c1(", "c3(", "b")):
                value, body = [f"N{{{body}}}"], f"N{{{body}}}"
            if op == "skip_connect":
                terms.extend(value)
            else:
                terms.append(f"{_SHORT[op]}({body})")
        nodes[j] = sorted(terms)
    return "+".join(nodes[3]) or "0"


def _live_edges(ops: list[str]) -> list[str]:
    """The cell with every edge that cannot affect the output set to ``none`` (its source is never reached from the
    input, or its target never reaches the output)."""
    reached = {0}
    for (dst, src), op in zip(_EDGE_NODES, ops, strict=True):
        if op != "none" and src in reached:
            reached.add(dst)
    reaches = {3}
    for (dst, src), op in reversed(list(zip(_EDGE_NODES, ops, strict=True))):
        if op != "none" and dst in reaches:
            reaches.add(src)
    return [
        op if src in reached and dst in reaches else "none" for (dst, src), op in zip(_EDGE_NODES, ops, strict=True)
    ]


@functools.lru_cache(maxsize=1)
def _functions() -> tuple[tuple[str, ...], ...]:
    """One cell per distinct function, the first in arch-index order."""
    seen: dict[str, tuple[str, ...]] = {}
    for ops in itertools.product(NB201_OPS, repeat=NB201_EDGES):
        seen.setdefault(_cell_function(ops), ops)
    return tuple(seen.values())


@functools.lru_cache(maxsize=1 << 16)
def _features(ops: tuple[str, ...]) -> tuple[float, ...]:
    live = _live_edges(list(ops))
    onehot = [1.0 if op == name else 0.0 for op in live for name in NB201_OPS]
    return tuple(onehot + [float(c) for c in path_counts(list(ops))])


def path_counts(ops: list[str]) -> list[int]:
    """How many input-to-output paths carry each sequence of operations (identity edges dropped)."""
    counts = [0] * len(_PATHS)
    routes = [(3,), (0, 4), (1, 5), (0, 2, 5)]  # edge indices along 0->3, 0->1->3, 0->2->3, 0->1->2->3
    for route in routes:
        seq = [ops[e] for e in route]
        if "none" in seq:
            continue
        counts[_PATH_INDEX[tuple(_SHORT[op] for op in seq if op != "skip_connect")]] += 1
    return counts


def arch_string(ops: list[str]) -> str:
    """NAS-Bench-201's architecture string, e.g. ``|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|``."""
    e = ops
    return f"|{e[0]}~0|+|{e[1]}~0|{e[2]}~1|+|{e[3]}~0|{e[4]}~1|{e[5]}~2|"


def exchange_edges(g: dict[str, Any], rng: random.Random, space: Any) -> tuple[dict[str, Any], str] | None:
    edges = g["edges"]
    pairs = [(a, b) for a in range(NB201_EDGES) for b in range(a + 1, NB201_EDGES) if edges[a] != edges[b]]
    if not pairs:
        return None
    a, b = rng.choice(pairs)
    edges[a], edges[b] = edges[b], edges[a]
    return g, f"edges {_EDGE_NAMES[a]} and {_EDGE_NAMES[b]} exchange operations ({edges[b]} <-> {edges[a]})"


def swap_edge_op(g: dict[str, Any], rng: random.Random, space: Any) -> tuple[dict[str, Any], str]:
    edge = rng.randrange(NB201_EDGES)
    old = g["edges"][edge]
    g["edges"][edge] = rng.choice([op for op in NB201_OPS if op != old])
    return g, f"edge {_EDGE_NAMES[edge]}: {old} -> {g['edges'][edge]}"


class NB201Space(Space):
    """The NAS-Bench-201 cell: each of 6 edges carries one of 5 operations (15,625 cells). Genes: ``edges``.

    ``distinct``: what counts as a new design, and is never trained twice: ``"functions"`` (default; cells that
    compute the same function, e.g. differing only on edges that cannot reach the output, are one design: 6,466 of
    them) or ``"cells"`` (every one of the 15,625 cells, as the benchmark's table lists them)."""

    name = "nb201"
    operators = {"swap_edge_op": swap_edge_op, "exchange_edges": exchange_edges}

    def __init__(self, distinct: str = "functions") -> None:
        if distinct not in ("functions", "cells"):
            raise ValueError(f"space.distinct: expected functions or cells, got {distinct!r}")
        self.distinct = distinct

    def sample(self, rng: random.Random) -> Design:
        return Design.make(self.name, {"edges": [rng.choice(NB201_OPS) for _ in range(NB201_EDGES)]})

    def validate(self, design: Design) -> None:
        edges = design.view.get("edges")
        if design.space != self.name or not isinstance(edges, list) or len(edges) != NB201_EDGES:
            raise ValueError("an nb201 design has genes {'edges': [6 operation names]}")
        bad = [op for op in edges if op not in NB201_OPS]
        if bad:
            raise ValueError(f"edges: unknown operation {bad[0]!r} (known: {', '.join(NB201_OPS)})")

    def enumerate(self, limit: int) -> list[Design] | None:
        if self.distinct == "cells":
            cells = itertools.product(NB201_OPS, repeat=NB201_EDGES)
            return [Design.make(self.name, {"edges": list(e)}) for e in cells] if limit >= 5**NB201_EDGES else None
        if limit < len(NB201_OPS) ** NB201_EDGES // 4:  # 5,485 functions among 15,625 cells: not worth listing
            return None
        out = [Design.make(self.name, {"edges": list(e)}) for e in _functions()]
        return out if len(out) <= limit else None

    def canonical(self, design: Design) -> str:
        edges = tuple(design.view["edges"])
        return "|".join(edges) if self.distinct == "cells" else _cell_function(edges)

    def features(self, design: Design) -> list[float]:
        """One-hot operation per edge (edges that cannot affect the output read ``none``), then the path encoding."""
        return list(_features(tuple(design.view["edges"])))

    def from_arch_string(self, text: str) -> Design:
        ops = [part.split("~")[0] for part in text.replace("+", "").split("|") if part]
        design = Design.make(self.name, {"edges": ops})
        self.validate(design)
        return design

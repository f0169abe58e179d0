from __future__ import annotations

import random
from typing import Any

from evoforge.design import Design
from evoforge.spaces._base import Space

NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NB201_EDGES = 6  # edges of the 4-node cell DAG, in arch-string order: 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2
_EDGE_NAMES = ("1<-0", "2<-0", "2<-1", "3<-0", "3<-1", "3<-2")


def arch_string(ops: list[str]) -> str:
    """NAS-Bench-201's architecture string, e.g. ``|nor_conv_3x3~0|+|skip_connect~0|none~1|+|...|``."""
    e = ops
    return f"|{e[0]}~0|+|{e[1]}~0|{e[2]}~1|+|{e[3]}~0|{e[4]}~1|{e[5]}~2|"


def swap_edge_op(g: dict[str, Any], rng: random.Random, space: Any) -> tuple[dict[str, Any], str]:
    edge = rng.randrange(NB201_EDGES)
    old = g["edges"][edge]
    g["edges"][edge] = rng.choice([op for op in NB201_OPS if op != old])
    return g, f"edge {_EDGE_NAMES[edge]}: {old} -> {g['edges'][edge]}"


class NB201Space(Space):
    """The NAS-Bench-201 cell: each of 6 edges carries one of 5 operations (15,625 cells). Genes: ``edges``."""

    name = "nb201"
    operators = {"swap_edge_op": swap_edge_op}

    def sample(self, rng: random.Random) -> Design:
        return Design.make(self.name, {"edges": [rng.choice(NB201_OPS) for _ in range(NB201_EDGES)]})

    def validate(self, design: Design) -> None:
        edges = design.genes.get("edges")
        if design.space != self.name or not isinstance(edges, list) or len(edges) != NB201_EDGES:
            raise ValueError("an nb201 design has genes {'edges': [6 operation names]}")
        bad = [op for op in edges if op not in NB201_OPS]
        if bad:
            raise ValueError(f"edges: unknown operation {bad[0]!r} (known: {', '.join(NB201_OPS)})")

    def from_arch_string(self, text: str) -> Design:
        ops = [part.split("~")[0] for part in text.replace("+", "").split("|") if part]
        design = Design.make(self.name, {"edges": ops})
        self.validate(design)
        return design

from __future__ import annotations

import random

import pytest

from evoforge.design import Design
from evoforge.spaces import NB201_OPS, NB201Space, arch_string


def test_arch_string_round_trip() -> None:
    space = NB201Space()
    text = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    design = space.from_arch_string(text)
    assert arch_string(design.genes["edges"]) == text


def test_mutation_changes_exactly_one_edge() -> None:
    space = NB201Space()
    rng = random.Random(0)
    for _ in range(50):
        parent = space.sample(rng)
        child = space.mutate(parent, rng, "swap_edge_op")
        changed = [a != b for a, b in zip(parent.genes["edges"], child.design.genes["edges"], strict=True)]
        assert sum(changed) == 1
        other = space.mutate(parent, rng, "exchange_edges")  # the same operations, two of them trading edges
        assert sorted(other.design.genes["edges"]) == sorted(parent.genes["edges"])
        assert sum(a != b for a, b in zip(parent.genes["edges"], other.design.genes["edges"], strict=True)) == 2


def test_unknown_operations_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown operation 'conv_7x7'"):
        NB201Space().validate(Design.make("nb201", {"edges": ["conv_7x7"] + [NB201_OPS[0]] * 5}))


def test_distinct_cells_keeps_cells_that_compute_one_function_apart() -> None:
    # Edge 0 -> 1 feeds only nodes whose way to the output is cut ("none" on 1->2, 1->3): it cannot matter.
    rest = ["nor_conv_1x1", "none", "nor_conv_3x3", "none", "skip_connect"]
    a = Design.make("nb201", {"edges": ["nor_conv_3x3", *rest]})
    b = Design.make("nb201", {"edges": ["avg_pool_3x3", *rest]})
    functions, cells = NB201Space(), NB201Space("cells")
    assert functions.canonical(a) == functions.canonical(b)
    assert cells.canonical(a) != cells.canonical(b)
    everything = cells.enumerate(15625)
    assert everything is not None and len({cells.canonical(d) for d in everything}) == 15625
    assert len({functions.canonical(d) for d in everything}) < 15625

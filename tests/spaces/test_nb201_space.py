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

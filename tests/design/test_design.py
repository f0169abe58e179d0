from __future__ import annotations

from evoforge.design import Design
from tests.conftest import SMALL_DIGITS_GENES


def test_hash_depends_on_content_not_key_order() -> None:
    a = Design.make("macro", {"x": 1, "y": [1, 2]})
    b = Design.make("macro", {"y": [1, 2], "x": 1})
    assert a.hash == b.hash and a == b and len(a.hash) == 16
    assert Design.make("macro", {"x": 2, "y": [1, 2]}).hash != a.hash
    assert Design.make("nb201", {"x": 1, "y": [1, 2]}).hash != a.hash


def test_json_round_trip_keeps_hash() -> None:
    d = Design.make("macro", SMALL_DIGITS_GENES)
    again = Design.from_json(d.to_json())
    assert again == d and again.hash == d.hash


def test_genes_cannot_be_changed_in_place() -> None:
    d = Design.make("macro", SMALL_DIGITS_GENES)
    genes = d.genes
    genes["recipe"]["lr"] = 123.0
    assert d.genes["recipe"]["lr"] == SMALL_DIGITS_GENES["recipe"]["lr"]


def test_diff_reads_as_the_changes_made() -> None:
    a = Design.make("macro", SMALL_DIGITS_GENES)
    genes = a.genes
    genes["arch"]["blocks"].insert(0, {"type": "pool", "op": "max"})
    genes["recipe"]["lr"] = 0.02
    b = Design.make("macro", genes)
    assert a.diff(b) == ["arch.blocks[0]: inserted pool(op=max)", "recipe.lr: 0.01 -> 0.02"]
    assert b.diff(a) == ["arch.blocks[0]: removed pool(op=max)", "recipe.lr: 0.02 -> 0.01"]
    assert a.diff(a) == []

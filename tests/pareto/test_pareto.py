from __future__ import annotations

import itertools
import random

import pytest

from evoforge.pareto import Front, crowding_distance, dominates, hypervolume, non_dominated_sort


def test_dominance_needs_one_strict_improvement() -> None:
    assert dominates((2, 2), (1, 2))
    assert not dominates((2, 2), (2, 2))
    assert not dominates((3, 1), (1, 3))


def test_non_dominated_sort_ranks_a_hand_built_set() -> None:
    points = [(5, 1), (4, 4), (1, 5), (3, 3), (2, 2), (1, 1), (4, 1)]
    # front 0: (5,1) (4,4) (1,5); front 1: (3,3) (4,1) — (4,1) is beaten by (4,4) only; front 2: (2,2); 3: (1,1)
    assert non_dominated_sort(points) == [0, 0, 0, 1, 2, 3, 1]


def test_crowding_keeps_the_ends_and_prefers_lonely_points() -> None:
    points = [(0, 10), (1, 9), (2, 8), (9, 1), (10, 0)]
    d = crowding_distance(points)
    assert d[0] == d[-1] == float("inf")
    assert d[3] > d[1]  # (9, 1) has a wide gap on one side; (1, 9) sits between close neighbours


def test_hypervolume_of_a_hand_computed_two_objective_front() -> None:
    # Staircase over reference (0, 0): rectangles 3x1 + 2x(2-1) + 1x(3-2) = 3 + 2 + 1
    assert hypervolume([(3, 1), (2, 2), (1, 3)], (0, 0)) == pytest.approx(6.0)
    # A dominated point and a point behind the reference add nothing.
    assert hypervolume([(3, 1), (2, 2), (1, 3), (1, 1), (-1, 9)], (0, 0)) == pytest.approx(6.0)
    assert hypervolume([], (0, 0)) == 0.0


def test_hypervolume_of_a_hand_computed_three_objective_front() -> None:
    # Two boxes from the origin, 2x2x1 and 1x1x2, overlapping in 1x1x1: 4 + 2 - 1
    assert hypervolume([(2, 2, 1), (1, 1, 2)], (0, 0, 0)) == pytest.approx(5.0)


def test_hypervolume_agrees_with_a_grid_count_in_three_dimensions() -> None:
    rng = random.Random(3)
    points = [tuple(rng.randint(1, 6) for _ in range(3)) for _ in range(12)]
    cells = sum(
        1
        for cell in itertools.product(range(6), repeat=3)
        if any(all(c < p for c, p in zip(cell, point, strict=True)) for point in points)
    )
    assert hypervolume(points, (0, 0, 0)) == pytest.approx(cells)


def test_front_drops_what_a_newcomer_dominates() -> None:
    front = Front()
    assert front.add(0, (1, 1))
    assert front.add(1, (2, 0))
    assert not front.add(2, (0.5, 0.5))
    assert front.add(3, (2, 2))  # dominates both
    assert front.members == {3: (2.0, 2.0)}

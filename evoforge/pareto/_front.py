from __future__ import annotations

from collections.abc import Sequence

Point = Sequence[float]


def dominates(a: Point, b: Point) -> bool:
    """``a`` is at least as good as ``b`` in every objective and better in one (higher is better)."""
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(x > y for x, y in zip(a, b, strict=True))


def non_dominated_sort(points: Sequence[Point]) -> list[int]:
    """The Pareto rank of each point: 0 for the front, 1 for the front once rank 0 is removed, and so on.

    Deb et al.'s fast non-dominated sort, O(M N^2) for N points of M objectives.
    """
    n = len(points)
    beaten_by = [0] * n  # how many points dominate i
    beats: list[list[int]] = [[] for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if dominates(points[i], points[j]):
                beats[i].append(j)
                beaten_by[j] += 1
            elif dominates(points[j], points[i]):
                beats[j].append(i)
                beaten_by[i] += 1
    rank = [0] * n
    current = [i for i in range(n) if beaten_by[i] == 0]
    level = 0
    while current:
        following = []
        for i in current:
            rank[i] = level
            for j in beats[i]:
                beaten_by[j] -= 1
                if beaten_by[j] == 0:
                    following.append(j)
        current, level = following, level + 1
    return rank


def crowding_distance(points: Sequence[Point]) -> list[float]:
    """NSGA-II's crowding distance of each point within its set: larger means a lonelier, more valuable point.
    The extremes of each objective get infinity, so a front's ends are always kept."""
    n = len(points)
    if n <= 2:
        return [float("inf")] * n
    distance = [0.0] * n
    for m in range(len(points[0])):
        order = sorted(range(n), key=lambda i: points[i][m])
        low, high = points[order[0]][m], points[order[-1]][m]
        distance[order[0]] = distance[order[-1]] = float("inf")
        if high == low:
            continue
        for k in range(1, n - 1):
            distance[order[k]] += (points[order[k + 1]][m] - points[order[k - 1]][m]) / (high - low)
    return distance


class Front:
    """The non-dominated points seen so far, each with a key (a trial number). Equal points are all kept."""

    def __init__(self) -> None:
        self.members: dict[int, tuple[float, ...]] = {}

    def add(self, key: int, point: Point) -> bool:
        """Offer a point; returns True when it joined the front (and dropped the points it dominates)."""
        p = tuple(float(v) for v in point)
        if any(dominates(q, p) for q in self.members.values()):
            return False
        self.members = {k: q for k, q in self.members.items() if not dominates(p, q)}
        self.members[key] = p
        return True

    def points(self) -> list[tuple[float, ...]]:
        return list(self.members.values())

from __future__ import annotations

from collections.abc import Sequence

from evoforge.pareto._front import Point, dominates


def hypervolume(points: Sequence[Point], reference: Point) -> float:
    """The volume dominated by ``points`` and bounded by ``reference`` (higher is better in every objective).

    Points that do not strictly beat the reference in every objective add nothing. Exact: a sweep in two
    dimensions, slicing along the last objective above that (fine for the fronts of a study, tens of points).
    """
    ref = tuple(float(r) for r in reference)
    inside = [tuple(float(v) for v in p) for p in points if all(v > r for v, r in zip(p, ref, strict=True))]
    front = [p for p in inside if not any(dominates(q, p) for q in inside)]
    return _volume(sorted(set(front)), ref)


def _volume(front: list[tuple[float, ...]], ref: tuple[float, ...]) -> float:
    if not front:
        return 0.0
    if len(ref) == 1:
        return max(p[0] for p in front) - ref[0]
    if len(ref) == 2:
        # Sorted by the first objective, descending: each point adds a slab above the ones before it.
        total, best_y = 0.0, ref[1]
        for x, y in sorted(front, reverse=True):
            if y > best_y:
                total += (x - ref[0]) * (y - best_y)
                best_y = y
        return total
    # Slice along the last objective: between consecutive levels, the points at or above the level form a
    # (d-1)-dimensional front whose volume times the slice's thickness is that slice's contribution.
    levels = sorted({p[-1] for p in front}, reverse=True)
    total = 0.0
    for i, level in enumerate(levels):
        below = levels[i + 1] if i + 1 < len(levels) else ref[-1]
        upper = [p[:-1] for p in front if p[-1] >= level]
        sub = [p for p in upper if not any(dominates(q, p) for q in upper)]
        total += _volume(sorted(set(sub)), ref[:-1]) * (level - below)
    return total

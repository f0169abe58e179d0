"""The study's Pareto front and its hypervolume, kept up to date after every trial."""

from __future__ import annotations

from evoforge.goal import Goal
from evoforge.pareto import Front, hypervolume
from evoforge.spaces import Space

# Values a metric cannot go past, which make natural reference values for the hypervolume.
NATURAL_WORST = {"val_accuracy": 0.0, "test_accuracy": 0.0}
# Static metrics that are exact (not bounds), so the largest design's value bounds every design's.
EXACT_STATIC = ("params", "flops")


def fixed_reference(goal: Goal, space: Space) -> dict[str, float]:
    """The reference value of each objective that is known before any trial (metric units, not oriented): the
    goal's ``reference``, else the constraint bound on that side, else the metric's natural limit, else (for a
    minimized static metric such as ``params``) the value of the largest design in the space."""
    largest = space.largest()
    static = space.static_metrics(largest) if largest is not None else {}
    out: dict[str, float] = {}
    for metric, direction in goal.objectives.items():
        bound = goal.constraints.get(metric)
        side = None if bound is None else (bound.max if direction == "min" else bound.min)
        if metric in goal.reference:
            out[metric] = goal.reference[metric]
        elif side is not None:
            out[metric] = side
        elif metric in NATURAL_WORST and direction == "max":
            out[metric] = NATURAL_WORST[metric]
        elif metric in static and metric in EXACT_STATIC and direction == "min":
            out[metric] = static[metric]
    return out


class StudyFront:
    """The non-dominated trials of a study and the hypervolume they dominate.

    A reference value no rule fixes in advance is pinned by the first trial with values (twice its value for a
    minimized metric, zero or twice below it for a maximized one); replaying trials in the order they finished
    pins it the same way, so a resumed study reports the same hypervolumes.
    """

    def __init__(self, goal: Goal, fixed: dict[str, float]) -> None:
        self.goal = goal
        self.reference = dict(fixed)
        self.front = Front()
        self.hypervolume = 0.0

    def add(self, number: int, metrics: dict[str, float]) -> float:
        """Offer a finished trial's metrics; returns the hypervolume after it."""
        point = self.goal.values(metrics)
        if point is None:
            return self.hypervolume
        self._pin(metrics)
        if self.front.add(number, point):
            self.hypervolume = hypervolume(self.front.points(), self.oriented_reference())
        return self.hypervolume

    def oriented_reference(self) -> tuple[float, ...]:
        return tuple(self.reference[m] if d == "max" else -self.reference[m] for m, d in self.goal.objectives.items())

    def _pin(self, metrics: dict[str, float]) -> None:
        for metric, direction in self.goal.objectives.items():
            if metric not in self.reference:
                value = float(metrics[metric])
                if direction == "min":
                    self.reference[metric] = 2 * value if value > 0 else value + 1.0
                else:
                    self.reference[metric] = 0.0 if value > 0 else 2 * value - 1.0

"""The ranges an objective asks its parameters from (``trial.suggest_*``), as JSON values: how to draw from one, how
to change a value a little, and how to encode a value for a learned predictor."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

Choice = bool | int | float | str | None  # what a categorical parameter may take (as Optuna allows)


@dataclass(frozen=True)
class FloatRange:
    low: float
    high: float
    log: bool = False
    step: float | None = None

    def sample(self, rng: random.Random) -> float:
        if self.log:
            return self.snap(math.exp(rng.uniform(math.log(self.low), math.log(self.high))))
        return self.snap(rng.uniform(self.low, self.high))

    def snap(self, value: float) -> float:
        """``value`` clipped into the range, on the step grid if there is one."""
        value = min(max(float(value), self.low), self.high)
        if self.step is not None:
            value = self.low + round((value - self.low) / self.step) * self.step
            value = min(value, self.high)
        return value

    def contains(self, value: Any) -> bool:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and self.low <= value <= self.high

    def unit(self, value: float) -> float:
        """Where ``value`` lies in the range, 0..1 (on a log scale for a log range)."""
        if self.high == self.low:
            return 0.5
        if self.log:
            return (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (value - self.low) / (self.high - self.low)

    def from_unit(self, u: float) -> float:
        u = min(max(u, 0.0), 1.0)
        if self.log:
            return self.snap(math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low))))
        return self.snap(self.low + u * (self.high - self.low))

    def nudge(self, value: float, rng: random.Random) -> float:
        """A nearby value: a Gaussian step of a tenth of the range (on its log scale for a log range)."""
        return self.from_unit(self.unit(value) + rng.gauss(0.0, 0.1))

    def widened(self, other: FloatRange) -> FloatRange:
        return FloatRange(min(self.low, other.low), max(self.high, other.high), self.log, self.step or other.step)


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    log: bool = False
    step: int = 1

    def _float(self) -> FloatRange:
        return FloatRange(float(self.low), float(self.high), self.log)

    def sample(self, rng: random.Random) -> int:
        return self.snap(self._float().sample(rng))

    def snap(self, value: float) -> int:
        value = min(max(float(value), self.low), self.high)
        return int(min(self.low + round((value - self.low) / self.step) * self.step, self.high))

    def contains(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and self.low <= value <= self.high

    def unit(self, value: float) -> float:
        return self._float().unit(value)

    def nudge(self, value: int, rng: random.Random) -> int:
        moved = self.snap(self._float().from_unit(self.unit(value) + rng.gauss(0.0, 0.1)))
        if moved == value and self.high > self.low:  # a small range: step to a neighbour instead
            moved = self.snap(value + self.step * rng.choice((-1, 1)))
        return moved

    def widened(self, other: IntRange) -> IntRange:
        return IntRange(min(self.low, other.low), max(self.high, other.high), self.log, min(self.step, other.step))


@dataclass(frozen=True)
class Categorical:
    choices: tuple[Choice, ...]

    def sample(self, rng: random.Random) -> Choice:
        return rng.choice(self.choices)

    def contains(self, value: Any) -> bool:
        return any(value == c and type(value) is type(c) for c in self.choices)

    def widened(self, other: Categorical) -> Categorical:
        return Categorical(self.choices + tuple(c for c in other.choices if c not in self.choices))


Distribution = FloatRange | IntRange | Categorical


def to_json(d: Distribution) -> dict[str, Any]:
    if isinstance(d, Categorical):
        return {"categorical": list(d.choices)}
    kind = "float" if isinstance(d, FloatRange) else "int"
    return {kind: [d.low, d.high], "log": d.log, "step": d.step}


def from_json(data: dict[str, Any]) -> Distribution:
    if "categorical" in data:
        return Categorical(tuple(data["categorical"]))
    if "float" in data:
        low, high = data["float"]
        return FloatRange(float(low), float(high), bool(data.get("log")), data.get("step"))
    low, high = data["int"]
    return IntRange(int(low), int(high), bool(data.get("log")), int(data.get("step") or 1))


def merged(old: Distribution, new: Distribution) -> Distribution:
    """One range covering what the objective asked for a parameter on two occasions (a range that depends on
    another choice): the union, when both are of one kind; the newer otherwise."""
    if isinstance(old, FloatRange) and isinstance(new, FloatRange):
        return old.widened(new)
    if isinstance(old, IntRange) and isinstance(new, IntRange):
        return old.widened(new)
    if isinstance(old, Categorical) and isinstance(new, Categorical):
        return old.widened(new)
    return new

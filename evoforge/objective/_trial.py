"""The live handle an objective gets, with Optuna's names: ``suggest_float`` / ``suggest_int`` /
``suggest_categorical``, ``report`` and ``should_prune``, ``number``, ``params``, and what evoforge adds: ``seed``
(the seed the run must use: evidence retrainings are real retrainings on other seeds) and ``split`` (``"val"`` in a
trial, ``"test"`` when the evidence gate asks for the held-out measurement)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from evoforge.design import Design
from evoforge.objective._distributions import Categorical, Choice, Distribution, FloatRange, IntRange, to_json
from evoforge.objective._space import DRAW, drawn

Reporter = Callable[[int, float], bool]  # (step, value) -> whether the trial goes on


class TrialPruned(Exception):  # noqa: N818 - Optuna's name, so an Optuna objective runs with the import changed
    """Raise it from an objective when ``trial.should_prune()`` says so: the trial is recorded as pruned, with the
    last value it reported."""


class Trial:
    """One run of an objective. Each ``suggest_*`` returns the value the design being tried holds for that name
    (clipped into the range asked, or drawn from it when the design does not name it) and records the range, so the
    search learns the space from what the objective asks. Asking for a name twice returns the same value."""

    def __init__(
        self,
        design: Design,
        *,
        number: int,
        seed: int,
        split: str = "val",
        reporter: Reporter | None = None,
    ) -> None:
        self._design, self._genes = design, design.view
        self.number, self.seed, self._split = number, seed, split
        self._reporter = reporter
        self.params: dict[str, Any] = {}
        self.distributions: dict[str, Distribution] = {}
        self.user_attrs: dict[str, Any] = {}
        self.curve: list[tuple[int, float]] = []
        self.split_read = False
        self._prune = False

    @property
    def split(self) -> str:
        """``"val"``: measure on your validation data. ``"test"``: this is an evidence retraining; measure on your
        held-out data (never seen by the search). An objective that never reads it is judged on what it returns
        either way, and the evidence says the measurement was not held out."""
        self.split_read = True
        return self._split

    # -- parameters --------------------------------------------------------------------------------------------------
    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        _check_range(name, low, high, log, step)
        if log and step is not None:
            raise ValueError(f"suggest_float({name!r}): step and log cannot be used together")
        value = self._value(name, FloatRange(float(low), float(high), log, step))
        return float(value)

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1, log: bool = False) -> int:
        _check_range(name, low, high, log, step)
        if log and step != 1:
            raise ValueError(f"suggest_int({name!r}): step and log cannot be used together")
        return int(self._value(name, IntRange(int(low), int(high), log, int(step))))

    def suggest_categorical(self, name: str, choices: Sequence[Choice]) -> Any:
        options = tuple(choices)
        if not options:
            raise ValueError(f"suggest_categorical({name!r}): give at least one choice")
        bad = [c for c in options if not isinstance(c, (type(None), bool, int, float, str))]
        if bad:
            raise ValueError(
                f"suggest_categorical({name!r}): choices are None, bool, int, float or str, not {bad[0]!r}"
            )
        return self._value(name, Categorical(options))

    def _value(self, name: str, asked: Distribution) -> Any:
        if name == DRAW:
            raise ValueError(f"{DRAW!r} is evoforge's own name; call the parameter something else")
        if name in self.params:
            return self.params[name]
        held = self._genes.get(name)
        if held is None and name not in self._genes:
            value = drawn(self._design.hash, name, asked)
        elif isinstance(asked, Categorical):
            value = held if asked.contains(held) else drawn(self._design.hash, name, asked)
        elif isinstance(held, (int, float)) and not isinstance(held, bool):
            value = asked.snap(held)
        else:
            value = drawn(self._design.hash, name, asked)
        self.params[name], self.distributions[name] = value, asked
        return value

    # -- early stopping ----------------------------------------------------------------------------------------------
    def report(self, value: float, step: int) -> None:
        """The objective's intermediate value (in the units of what it returns) at ``step`` (an epoch, an
        iteration); a scheduler (``scheduler: {name: asha}``) judges it at its rungs."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"trial.report: the value at step {step} is {value}; report a finite number")
        self.curve.append((int(step), value))
        if self._reporter is not None and not self._reporter(int(step), value):
            self._prune = True

    def should_prune(self) -> bool:
        """True once the scheduler has stopped the trial at a rung: raise ``TrialPruned``."""
        return self._prune

    def set_user_attr(self, key: str, value: Any) -> None:
        """Keep a JSON value with the trial (shown in ``evoforge trials --json``)."""
        self.user_attrs[key] = value

    def record(self) -> dict[str, Any]:
        """What the trial asked for and reported, for the store."""
        return {
            "params": dict(self.params),
            "distributions": {n: to_json(d) for n, d in self.distributions.items()},
            "curve": [{"step": s, "value": v} for s, v in self.curve],
            **({"user_attrs": self.user_attrs} if self.user_attrs else {}),
        }


def _check_range(name: str, low: float, high: float, log: bool, step: float | None) -> None:
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise ValueError(f"suggest({name!r}): expected finite low <= high, got [{low}, {high}]")
    if log and low <= 0:
        raise ValueError(f"suggest({name!r}): a log range needs low > 0, got {low}")
    if step is not None and step <= 0:
        raise ValueError(f"suggest({name!r}): step must be positive, got {step}")

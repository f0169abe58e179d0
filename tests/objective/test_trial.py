"""The live trial handle: Optuna's names, values from the design being tried, drawn ones that stay the same."""

from __future__ import annotations

import pytest

from evoforge.design import Design
from evoforge.objective import Trial
from evoforge.objective._space import ParamSpace


def _trial(genes: dict, **kwargs) -> Trial:  # type: ignore[no-untyped-def, type-arg]
    return Trial(Design.make("params", genes), number=kwargs.pop("number", 3), seed=kwargs.pop("seed", 7), **kwargs)


def test_a_parameter_the_design_holds_is_returned_and_recorded_with_its_range() -> None:
    trial = _trial({"lr": 0.01, "layers": 3, "act": "relu"})
    assert trial.suggest_float("lr", 1e-4, 1.0, log=True) == 0.01
    assert trial.suggest_int("layers", 1, 8) == 3
    assert trial.suggest_categorical("act", ["relu", "gelu"]) == "relu"
    assert trial.params == {"lr": 0.01, "layers": 3, "act": "relu"}
    assert trial.record()["distributions"]["lr"] == {"float": [1e-4, 1.0], "log": True, "step": None}
    assert (trial.number, trial.seed) == (3, 7)


def test_a_parameter_the_design_does_not_hold_is_drawn_the_same_way_every_time() -> None:
    a, b = _trial({"lr": 0.01}), _trial({"lr": 0.01}, seed=99)  # the same design on another seed
    drawn = a.suggest_float("wd", 0.0, 0.5)
    assert 0.0 <= drawn <= 0.5 and b.suggest_float("wd", 0.0, 0.5) == drawn
    assert _trial({"lr": 0.02}).suggest_float("wd", 0.0, 0.5) != drawn  # another design draws another value
    space = ParamSpace()
    space.observe(Design.make("params", {"lr": 0.01}), a.record())
    assert space.resolve(Design.make("params", {"lr": 0.01})) == {"wd": drawn}  # what the space learned


def test_values_outside_the_range_asked_are_clipped_or_drawn() -> None:
    trial = _trial({"lr": 5.0, "n": 40, "act": "tanh", "k": 2.4})
    assert trial.suggest_float("lr", 0.0, 1.0) == 1.0
    assert trial.suggest_int("n", 1, 10, step=3) == 10
    assert trial.suggest_categorical("act", ["relu", "gelu"]) in ("relu", "gelu")
    assert trial.suggest_int("k", 1, 4) == 2  # a float held for an int parameter: snapped onto the grid


def test_asking_twice_returns_the_first_answer() -> None:
    trial = _trial({})
    first = trial.suggest_float("x", 0.0, 1.0)
    assert trial.suggest_float("x", 0.0, 1.0) == first and list(trial.params) == ["x"]


@pytest.mark.parametrize(
    ("ask", "message"),
    [
        (lambda t: t.suggest_float("x", 1.0, 0.0), "expected finite low <= high"),
        (lambda t: t.suggest_float("x", 0.0, 1.0, log=True), "a log range needs low > 0"),
        (lambda t: t.suggest_float("x", 1e-3, 1.0, log=True, step=0.1), "step and log cannot be used together"),
        (lambda t: t.suggest_int("n", 1, 10, step=0), "step must be positive"),
        (lambda t: t.suggest_categorical("c", []), "at least one choice"),
        (lambda t: t.suggest_categorical("c", [[1, 2]]), "choices are None, bool, int, float or str"),
    ],
)
def test_a_bad_range_is_refused_with_one_line(ask, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        ask(_trial({}))


def test_reports_reach_the_reporter_and_its_answer_is_should_prune() -> None:
    heard: list[tuple[int, float]] = []

    def reporter(step: int, value: float) -> bool:
        heard.append((step, value))
        return step < 3

    trial = _trial({}, reporter=reporter)
    trial.report(0.9, 1)
    assert not trial.should_prune()
    trial.report(0.7, 3)
    assert trial.should_prune() and heard == [(1, 0.9), (3, 0.7)]
    assert trial.record()["curve"] == [{"step": 1, "value": 0.9}, {"step": 3, "value": 0.7}]
    with pytest.raises(ValueError, match="report a finite number"):
        trial.report(float("nan"), 4)


def test_reading_the_split_is_noticed() -> None:
    trial = _trial({}, split="test")
    assert not trial.split_read
    assert trial.split == "test" and trial.split_read

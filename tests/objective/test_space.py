"""The space of an objective, learned from what it asks for."""

from __future__ import annotations

import random

from evoforge.design import Design
from evoforge.objective import Trial
from evoforge.objective._space import ParamSpace


def _asked(space: ParamSpace, genes: dict, ask) -> Design:  # type: ignore[no-untyped-def, type-arg]
    design = Design.make("params", genes)
    trial = Trial(design, number=0, seed=0)
    ask(trial)
    space.observe(design, trial.record())
    return design


def _branchy(trial: Trial) -> None:
    kind = trial.suggest_categorical("kind", ["svm", "tree"])
    if kind == "svm":
        trial.suggest_float("c", 1e-3, 1e3, log=True)
    else:
        trial.suggest_int("depth", 1, 12)


def test_it_waits_for_the_first_result_then_knows_what_was_asked() -> None:
    space = ParamSpace()
    first = space.sample(random.Random(0))
    assert space.waiting and list(first.view) == ["~draw"]  # names nothing: the objective draws every value
    _asked(space, {"kind": "svm"}, _branchy)
    assert not space.waiting and list(space.distributions) == ["kind", "c"]
    _asked(space, {"kind": "tree"}, _branchy)  # the other branch: its parameter is learned too
    assert list(space.distributions) == ["kind", "c", "depth"] and space.version == 3


def test_a_range_asked_differently_later_is_widened() -> None:
    space = ParamSpace()
    _asked(space, {}, lambda t: t.suggest_float("x", 0.0, 1.0))
    _asked(space, {}, lambda t: t.suggest_float("x", -1.0, 0.5))
    assert space.distributions["x"].low == -1.0 and space.distributions["x"].high == 1.0  # type: ignore[union-attr]


def test_samples_and_mutations_stay_in_the_space_and_encode_to_a_fixed_length() -> None:
    space = ParamSpace()
    _asked(space, {"kind": "svm"}, _branchy)
    _asked(space, {"kind": "tree"}, _branchy)
    rng = random.Random(1)
    designs = [space.sample(rng) for _ in range(20)]
    children = [space.mutate(d, rng) for d in designs]
    for d in designs + [c.design for c in children]:
        space.validate(d)
        assert len(space.features(d)) == 2 + 1 + 1 and all(0.0 <= f <= 1.0 for f in space.features(d))
    assert {c.operator for c in children} <= {"nudge", "redraw", "switch"}
    assert all(c.design != d for c, d in zip(children, designs, strict=True))


def test_a_design_that_names_a_value_outside_the_learned_range_is_refused() -> None:
    space = ParamSpace()
    _asked(space, {}, lambda t: t.suggest_int("n", 1, 4))
    try:
        space.validate(Design.make("params", {"n": 9}))
    except ValueError as exc:
        assert str(exc).startswith("n: 9 is outside what the objective asks for")
    else:
        raise AssertionError("accepted a value outside the range")


def test_the_first_trial_draws_other_values_on_another_search_seed() -> None:
    def ask(design: Design) -> dict:  # type: ignore[type-arg]
        trial = Trial(design, number=0, seed=0)
        _branchy(trial)
        return trial.params

    first = [ask(ParamSpace().sample(random.Random(f"{seed}:0"))) for seed in range(4)]  # a proposer's rng(number)
    assert len({str(p) for p in first}) == 4


def test_a_design_naming_every_known_parameter_computes_the_same_whatever_it_was_drawn_from() -> None:
    space = ParamSpace()
    _asked(space, {"kind": "svm"}, _branchy)
    a = Design.make("params", {"kind": "svm", "c": 2.0, "~draw": 1})
    b = Design.make("params", {"kind": "svm", "c": 2.0, "~draw": 2})
    assert a.hash != b.hash and space.canonical(a) == space.canonical(b)
    assert space.canonical(Design.make("params", {"kind": "svm", "~draw": 1})) != space.canonical(
        Design.make("params", {"kind": "svm", "~draw": 2})
    )  # c is drawn from it: another value
    child = space.mutate(a, random.Random(0))
    assert "~draw" not in child.design.view and set(child.design.view) == {"kind", "c"}

"""The held-out judge is the goal's own metric with its direction: a study judged on a loss (minimized) promotes a
challenger only on a significant held-out loss improvement, compared input by input."""

from __future__ import annotations

import pytest

from evoforge import Store
from evoforge.goal import goal_from_dict
from evoforge.study import run_study
from tests.study.toy import LOSS_TOY, cell, toy_goal

BASE = cell()
BETTER = cell(e0="nor_conv_3x3")


def _run(storage: str, cells: list[list[str]], task: dict, **oversight: object):  # type: ignore[no-untyped-def, type-arg]
    goal = toy_goal(cells, len(cells), {})
    goal.update(task={"name": LOSS_TOY, **task}, objectives={"val_loss": "min"})
    goal["oversight"] = {"noise_margin": 0.0, **oversight}
    run_study(goal_from_dict(goal), storage, workers=0)
    store = Store(storage)
    study = store.get_study("toy")
    assert study is not None
    return store, study


def test_a_lower_held_out_loss_is_promoted_with_its_evidence_in_the_losss_own_terms(storage: str) -> None:
    store, study = _run(storage, [BASE, BETTER], {"effects": {"0:nor_conv_3x3": 0.2}})
    case = store.promotions(study.id)[1]
    e = case.evidence
    assert case.state == "promoted" and e is not None and e.significant
    assert (e.metric, e.direction, e.held_out, e.test_inputs) == ("val_loss", "min", "held-out split", 300)
    assert e.mean_diff == pytest.approx(0.2, abs=0.03) and e.ci is not None and e.ci[0] > 0  # the loss went down
    assert e.challenger_held_out is not None and e.champion_held_out is not None
    assert e.challenger_held_out < e.champion_held_out  # in the loss's own units: lower
    gens = store.generations(study.id)
    assert gens[-1].trial_number == 1 and gens[-1].held_out == pytest.approx(e.challenger_held_out)
    assert gens[-1].reason.startswith("val_loss decrease +0.19") and "x 300 held-out inputs" in gens[-1].reason


def test_a_tiny_gain_lucky_on_its_single_run_is_declined(storage: str) -> None:
    store, study = _run(storage, [BASE, BETTER], {"effects": {"0:nor_conv_3x3": 0.001}, "design_noise": 0.05})
    trials = store.trials(study.id)
    assert trials[1].metrics["val_loss"] < trials[0].metrics["val_loss"]  # it won its single run
    case = store.promotions(study.id)[1]
    assert case.state == "declined" and case.evidence is not None and not case.evidence.significant
    assert [g.trial_number for g in store.generations(study.id)] == [0]


def test_a_gain_on_validation_data_alone_is_declined_on_the_held_out_split(storage: str) -> None:
    store, study = _run(storage, [BASE, BETTER], {"val_only": {"0:nor_conv_3x3": 0.2}})
    trials = store.trials(study.id)
    assert trials[1].metrics["val_loss"] < trials[0].metrics["val_loss"] - 0.1  # far better on validation
    case = store.promotions(study.id)[1]
    assert case.state == "declined" and case.evidence is not None and not case.evidence.significant
    assert [g.trial_number for g in store.generations(study.id)] == [0]

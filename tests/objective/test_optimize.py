"""``evoforge.optimize`` on a user's objective in a file of their own: the space learned from the suggestions,
early stopping through report / should_prune, the evidence gate on the objective's held-out measurement, the human
gate, and what comes back."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

import evoforge
from evoforge import Store
from evoforge.study._review import decide

ASHA = {"scheduler": {"name": "asha", "min_epochs": 1, "eta": 3}}


def _objective():  # type: ignore[no-untyped-def]
    return importlib.import_module("user_obj").objective


def test_an_objective_of_ones_own_is_searched_and_judged_on_its_held_out_loss(user_folder: Path) -> None:
    url = f"sqlite:///{user_folder / 'study.db'}"
    result = evoforge.optimize(
        _objective(), study="cancer", storage=url, objectives={"val_loss": "min"}, trials=14, workers=0, goal=ASHA
    )
    assert result.stopped_because.startswith("trial budget of 14 trials spent")
    states = {t.state for t in result.trials}
    assert states <= {"complete", "pruned", "duplicate"} and "pruned" in states  # the scheduler stopped some early
    assert result.best_value == min(t.value for t in result.trials if t.state == "complete" and t.value is not None)
    assert set(result.best_params) >= {"alpha", "penalty", "epochs"}
    assert result.champion is not None and result.held_out is not None and 0.0 < result.held_out < 1.0
    store = Store(url)
    study = store.get_study("cancer")
    assert study is not None
    founding = store.promotions(study.id)[0].evidence
    assert founding is not None and founding.metric == "val_loss" and founding.held_out == "held-out split"
    replicate = store.replicates(study.id)[0]
    assert replicate.info["samples"]["test_loss"]["n"] == 171  # per held-out input, for the paired bootstrap
    asked = [t.info["distributions"] for t in store.trials(study.id) if t.info.get("distributions")]
    assert any("l1_ratio" in d for d in asked) and any("l1_ratio" not in d for d in asked)  # define-by-run


def test_optuna_names_read_the_same_values_back(user_folder: Path) -> None:
    url = f"sqlite:///{user_folder / 'study.db'}"
    result = evoforge.optimize(_objective(), study="s", storage=url, objectives="minimize", trials=3, workers=0)
    # a bare number would be 'value'; this objective returns a dict, so the goal names its metric
    assert result.trials[0].state == "failed"
    store = Store(url)
    (first, *_) = store.trials(store.get_study("s").id)  # type: ignore[union-attr]
    assert "the objective returned no 'value' (it returned: val_loss, val_accuracy)" in (first.error or "")


def test_the_human_gate_holds_a_promotion_of_an_objective_until_a_person_approves(user_folder: Path) -> None:
    url = f"sqlite:///{user_folder / 'study.db'}"
    weak = {"alpha": 0.05, "eta0": 0.0002, "penalty": "l2", "epochs": 3}  # a start that underfits: easy to beat
    human = {"oversight": {"promotion": "human"}, "search": {"start_from": weak}}
    result = evoforge.optimize(
        _objective(), study="gated", storage=url, objectives={"val_loss": "min"}, trials=6, workers=0, goal=human
    )
    store = Store(url)
    study = store.get_study("gated")
    assert study is not None
    pending = [c for c in store.promotions(study.id) if c.state == "pending"]
    assert pending and result.stopped_because.endswith("waits for a person (evoforge review)")
    decide(store, study, pending[0].number, "approved", "alice", "clear gain")
    assert store.generations(study.id)[-1].trial_number == pending[0].trial_number


@pytest.mark.parametrize(
    ("returned", "message"),
    [
        ("None", "the objective returned None; return a number, a dict of metrics"),
        ("float('nan')", "the objective returned value = nan; a metric must be a finite number"),
        ("{'test_value': 1.0, 'value': 1.0}", "test_* names are the gate's own"),
    ],
)
def test_what_an_objective_returns_wrongly_fails_its_trial_with_one_line(
    user_folder: Path, returned: str, message: str
) -> None:
    source = f"def objective(trial):\n    trial.suggest_float('x', 0, 1)\n    return {returned}\n"
    name = f"bad_{abs(hash(returned))}"  # a module of its own for each case
    (user_folder / f"{name}.py").write_text(source)
    bad = importlib.import_module(name)
    url = f"sqlite:///{user_folder / 'study.db'}"
    evoforge.optimize(bad.objective, study="bad", storage=url, trials=1, workers=0)
    store = Store(url)
    (trial,) = store.trials(store.get_study("bad").id)  # type: ignore[union-attr]
    assert trial.state == "failed" and message in (trial.error or "")


def test_an_objective_no_other_process_can_import_needs_workers_0(tmp_path: Path) -> None:
    def local(trial):  # type: ignore[no-untyped-def]
        return trial.suggest_float("x", -1, 1) ** 2

    url = f"sqlite:///{tmp_path / 'study.db'}"
    with pytest.raises(evoforge.GoalError, match="define it at the top level of a file, or run with workers=0"):
        evoforge.optimize(local, study="s", storage=url, trials=2, workers=2)
    result = evoforge.optimize(local, study="s", storage=url, trials=4, workers=0)
    assert result.best_value is not None and result.best_value >= 0

"""Limits a person sets: each cap stops the run (or the trial) cleanly and says which cap it was."""

from __future__ import annotations

import pytest

from evoforge import GoalError, Store
from evoforge.goal import goal_from_dict
from evoforge.study import run_study
from tests.conftest import digits_goal, nb201_goal


def _trials(storage: str, name: str):  # type: ignore[no-untyped-def]
    store = Store(storage)
    study = store.get_study(name)
    assert study is not None
    return store, study, store.trials(study.id)


def _nothing_half_done(storage: str, name: str) -> None:
    from evoforge.oversight import verify_chain

    store, study, trials = _trials(storage, name)
    assert not any(t.state == "running" for t in trials)  # every trial handed out came back and was recorded
    assert verify_chain(store, study).ok  # every row has its event: no write was cut in half


def test_the_trial_budget_is_named_when_it_ends_the_run(storage: str) -> None:
    report = run_study(goal_from_dict(nb201_goal(trials=6)), storage, workers=0)
    assert report.stopped_because == "trial budget of 6 trials spent"


def test_a_device_time_cap_stops_the_study_and_says_so(storage: str) -> None:
    goal = nb201_goal(trials=400, budget={"trials": 400, "device_time_s": 0.5})
    goal["task"]["sleep_s"] = 0.05
    report = run_study(goal_from_dict(goal), storage, workers=0)
    assert report.stopped_because.startswith("device-time cap of 0.5 s reached")
    store, study, trials = _trials(storage, "nb")
    assert 3 <= len(trials) < 400
    assert store.events(study.id, "run_stopped")[-1].payload["spent"]["device_s"] >= 0.5
    _nothing_half_done(storage, "nb")
    # Resuming under the same cap stops at once: what earlier runs spent counts.
    again = run_study(goal_from_dict(goal), storage, workers=0)
    assert again.stopped_because.startswith("device-time cap") and len(Store(storage).trials(study.id)) == len(trials)


def test_an_energy_cap_stops_the_study_and_says_so(storage: str) -> None:
    goal = digits_goal(trials=20, budget={"trials": 20, "energy_j": 1.0, "trial_timeout_s": 120})
    report = run_study(goal_from_dict(goal), storage, workers=0)
    assert report.stopped_because.startswith("energy cap of 1 J reached")
    _, _, trials = _trials(storage, "digits")
    assert 1 <= len(trials) < 20
    _nothing_half_done(storage, "digits")


def test_an_energy_cap_needs_a_task_that_measures_energy(storage: str) -> None:
    goal = nb201_goal(trials=5, budget={"trials": 5, "energy_j": 10})
    with pytest.raises(GoalError, match="budget.energy_j: task 'nasbench201' does not measure energy_j"):
        run_study(goal_from_dict(goal), storage, workers=0)


def test_a_per_trial_cpu_cap_stops_the_trial_and_the_study_goes_on(storage: str) -> None:
    goal = digits_goal(trials=2, budget={"trials": 2, "trial_cpu_s": 0.2})
    report = run_study(goal_from_dict(goal), storage, workers=1)
    _, _, trials = _trials(storage, "digits")
    assert [t.state for t in trials] == ["failed", "failed"] and report.stopped_because.startswith("trial budget")
    assert all(t.error == "CPU-time cap of 0.2 s exceeded; worker killed and replaced" for t in trials)


def test_a_per_trial_memory_cap_stops_the_trial_and_says_so(storage: str) -> None:
    goal = digits_goal(trials=1, budget={"trials": 1, "trial_memory_mb": 50})
    run_study(goal_from_dict(goal), storage, workers=1)
    _, _, trials = _trials(storage, "digits")
    assert trials[0].state == "failed" and (trials[0].error or "").startswith("memory cap of 50 MB exceeded")


def test_per_trial_caps_need_worker_processes(storage: str) -> None:
    goal = digits_goal(trials=1, budget={"trials": 1, "trial_memory_mb": 500})
    with pytest.raises(GoalError, match="budget.trial_memory_mb: per-trial caps need worker processes"):
        run_study(goal_from_dict(goal), storage, workers=0)
    assert Store(storage).get_study("digits") is None  # refused before anything was written


def test_only_allowed_operations_and_sizes_are_built(storage: str) -> None:
    goal = digits_goal(trials=6)
    goal["space"] = {**goal["space"], "block_types": ["conv"], "widths": [16], "max_blocks": 1}
    goal["search"] = {"proposer": "random", "seed": 3}
    run_study(goal_from_dict(goal), storage, workers=0)
    _, _, trials = _trials(storage, "digits")
    blocks = [b for t in trials for b in t.design.view["arch"]["blocks"]]
    assert blocks and {(b["type"], b["width"]) for b in blocks} == {("conv", 16)}
    assert all(len(t.design.view["arch"]["blocks"]) <= 1 for t in trials)

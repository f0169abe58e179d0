from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import yaml

from evoforge import GoalError, Store
from evoforge.goal import goal_from_dict
from evoforge.study import run_study
from evoforge.tasks import make_task
from tests.conftest import digits_goal, nb201_goal
from tests.study.test_kill_and_resume import _start

ASHA = {"name": "asha", "min_epochs": 12, "eta": 3}


def _trials(url: str, name: str = "nb"):  # type: ignore[no-untyped-def]
    store = Store(url)
    study = store.get_study(name)
    assert study is not None
    return store, study, store.trials(study.id)


def test_asha_on_nasbench201_prunes_at_12_epochs_and_finishes_the_rest(storage: str) -> None:
    run_study(goal_from_dict(nb201_goal(trials=60, scheduler=ASHA)), storage, workers=0)
    store, study, trials = _trials(storage)
    pruned = [t for t in trials if t.state == "pruned"]
    complete = [t for t in trials if t.state == "complete"]
    assert pruned and complete and len(pruned) + len(complete) == 60
    assert all(t.info["epoch"] == 12 and set(t.metrics) == {"val_accuracy", "train_time_s"} for t in pruned)
    assert all(t.info["epoch"] == 200 and "params" in t.metrics for t in complete)
    reports = store.events(study.id, "report")
    assert {e.trial_number for e in reports} == {t.number for t in trials}  # every trial reported at 12 epochs
    stopped = {e.trial_number for e in reports if not e.payload["continue"]}
    assert stopped == {t.number for t in pruned}
    # A stopped trial's recorded training time is the 12 epochs it got, not the full 200.
    task = make_task(nb201_goal()["task"])
    assert all(t.metrics["train_time_s"] == pytest.approx(task.row(t.design).train_time_s * 12 / 200) for t in pruned)


def test_a_resumed_asha_study_matches_one_that_never_stopped(storage: str, tmp_path: Path) -> None:
    data = nb201_goal(trials=25, scheduler={"name": "hyperband", "min_epochs": 12, "eta": 3, "brackets": 2})
    run_study(goal_from_dict(data), storage, workers=0)
    run_study(goal_from_dict({**data, "budget": {"trials": 50}}), storage, workers=0)
    straight = f"sqlite:///{tmp_path / 'straight.db'}"
    run_study(goal_from_dict({**data, "budget": {"trials": 50}}), straight, workers=0)
    a, b = _trials(storage)[2], _trials(straight)[2]
    assert [(t.state, t.metrics) for t in a] == [(t.state, t.metrics) for t in b]
    assert any(t.state == "pruned" for t in a)


def test_pruned_trials_survive_a_killed_coordinator(tmp_path: Path) -> None:
    goal = nb201_goal(trials=24, scheduler=ASHA, search={"proposer": "evolution", "population": 4, "seed": 3})
    goal["task"]["sleep_s"] = 0.6
    path = tmp_path / "goal.yaml"
    path.write_text(yaml.safe_dump(goal))
    url = f"sqlite:///{tmp_path / 'study.db'}"
    proc = _start(path, url)
    end = time.monotonic() + 120
    while time.monotonic() < end:
        try:
            counts = Store(url, create=False).count_trials(1)
        except Exception:  # the coordinator has not created the store yet
            counts = {}
        went_on = sum(e.payload["continue"] for e in Store(url).events(1, "report")) if counts else 0
        if counts.get("pruned", 0) >= 3 and counts.get("running", 0) > 0 and went_on > counts.get("complete", 0):
            break  # some trial is in flight past its rung
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {t.number: (t.metrics, t.finished_at) for t in _trials(url)[2] if t.state == "pruned"}
    assert len(before) >= 3
    proc = _start(path, url)
    assert proc.wait(timeout=300) == 0, proc.stderr.read().decode() if proc.stderr else ""
    store, study, trials = _trials(url)
    assert [t.number for t in trials if t.state in ("complete", "pruned")] == list(range(24))
    assert {t.number: (t.metrics, t.finished_at) for t in trials if t.number in before} == before
    # Trials in flight past their rung went on from their checkpoint: never judged twice, never overruled.
    reports = [(e.trial_number, e.payload["epoch"]) for e in store.events(study.id, "report")]
    assert len(reports) == len(set(reports))
    went_on = {e.trial_number for e in store.events(study.id, "report") if e.payload["continue"]}
    assert all(t.state == "complete" for t in trials if t.number in went_on)
    assert not store.checkpoints(study.id)  # finished trials leave no checkpoint behind


def test_asha_trains_real_networks_in_pieces_through_the_worker_pool(storage: str) -> None:
    space = {"epochs": [3, 4], "widths": [8, 16], "hidden_widths": [16, 32], "max_blocks": 2}
    schedule = {"name": "asha", "min_epochs": 1, "eta": 2}
    goal = digits_goal(trials=6, space=space, scheduler=schedule, search={"proposer": "random", "seed": 1})
    run_study(goal_from_dict(goal), storage, workers=1)
    store, study, trials = _trials(storage, "digits")
    assert {t.state for t in trials} <= {"complete", "pruned"} and any(t.state == "pruned" for t in trials)
    for t in trials:
        epochs = [
            p["epoch"]
            for e in store.events(study.id, "report")
            if e.trial_number == t.number
            for p in e.payload["curve"]
        ]
        if t.state == "complete":  # reported at the rungs, then trained on from the checkpoint to the end
            assert t.info["epoch"] == t.design.genes["recipe"]["epochs"]
            assert epochs[0] == 1 and t.info["curve"][-1]["epoch"] == t.info["epoch"]
    champion = store.generations(study.id)[-1]  # its weights, trained in pieces, measure on the test split
    assert champion.held_out is not None and champion.held_out > 0.5


@pytest.mark.parametrize(
    ("scheduler", "message"),
    [
        ({"name": "asha", "metric": "latency_ms"}, "scheduler.metric: task 'nasbench201' does not report"),
        ({"name": "asha", "min_epochs": 200}, "scheduler.min_epochs: the first rung (200 epochs)"),
        ({"name": "hyperband", "min_epochs": 12, "eta": 3, "brackets": 3}, "scheduler.brackets: past 2 brackets"),
        ({"name": "asha", "min_epochs": 12, "eta": 50}, "scheduler.eta: 50 is more than the 30 trials"),
    ],
)
def test_a_schedule_that_cannot_work_is_refused_before_any_trial(storage: str, scheduler: dict, message: str) -> None:
    with pytest.raises(GoalError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_study(goal_from_dict(nb201_goal(trials=30, scheduler=scheduler)), storage, workers=0)
    assert not Store(storage).studies()

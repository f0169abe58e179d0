"""A worker killed under a trial (from outside: an operator, the OOM killer, a lost machine) does not cost the trial:
it runs again, up to ``budget.trial_retries`` times, then is recorded failed."""

from __future__ import annotations

import os
import signal
import threading
import time

from benchmarks.chaos import children
from evoforge import Store
from evoforge.executors import Job, LocalPool
from evoforge.goal import goal_from_dict
from evoforge.study import run_study
from tests.conftest import NB201_PATH


def _workers() -> list[int]:
    """Worker processes of this test process's pool."""
    return children(os.getpid())


def test_an_outcome_says_when_its_worker_was_lost_rather_than_failing_by_itself() -> None:
    pool = LocalPool(1)
    try:
        pool.submit(Job(1, "time:sleep", 30, timeout_s=60))
        while not _workers():
            time.sleep(0.05)
        time.sleep(1.0)  # the worker has taken the job
        os.kill(_workers()[0], signal.SIGKILL)
        (lost,) = pool.wait(timeout=30)
        pool.submit(Job(2, "time:sleep", 30, timeout_s=0.5))
        (timed_out,) = pool.wait(timeout=30)
    finally:
        pool.shutdown()
    assert lost.lost and "killed by signal SIGKILL" in (lost.error or "")
    assert not timed_out.lost and "timed out" in (timed_out.error or "")


def test_a_trial_whose_worker_is_killed_runs_again_and_completes(storage: str) -> None:
    goal = {
        "study": "lossy",
        "task": {"name": "nasbench201", "path": NB201_PATH, "sleep_s": 0.8},
        "objectives": {"val_accuracy": "max"},
        "budget": {"trials": 4},
        "search": {"seed": 0},
    }
    runner = threading.Thread(target=run_study, args=(goal_from_dict(goal), storage), kwargs={"workers": 1})
    runner.start()
    store = Store(storage)
    while not (study := store.get_study("lossy")) or not store.count_trials(study.id).get("complete"):
        time.sleep(0.05)
    while store.events(study.id)[-1].kind != "proposed":  # the one worker has just been handed a trial, not evidence
        time.sleep(0.02)
    os.kill(_workers()[0], signal.SIGKILL)
    runner.join(timeout=120)
    trials = store.trials(study.id)
    assert [t.state for t in trials] == ["complete"] * 4
    retried = [t for t in trials if t.attempts == 2]
    assert len(retried) == 1
    (event,) = store.events(study.id, "requeued")
    assert event.trial_number == retried[0].number and "SIGKILL" in event.payload["reason"]


def test_a_trial_that_keeps_losing_its_worker_fails_after_its_retries(storage: str) -> None:
    goal = {
        "study": "doomed",
        "task": {"name": "nasbench201", "path": NB201_PATH, "sleep_s": 30},
        "objectives": {"val_accuracy": "max"},
        "budget": {"trials": 1, "trial_retries": 1},
        "search": {"seed": 0},
    }
    runner = threading.Thread(target=run_study, args=(goal_from_dict(goal), storage), kwargs={"workers": 1})
    runner.start()
    store = Store(storage)
    for kills in range(2):  # the first run, then its one retry
        while not (study := store.get_study("doomed")) or len(store.events(study.id, "requeued")) < kills:
            time.sleep(0.1)
        time.sleep(3.0)  # a fresh worker has started and taken the trial (30 s long)
        os.kill(_workers()[0], signal.SIGKILL)
    runner.join(timeout=120)
    (trial,) = store.trials(study.id)
    assert trial.state == "failed" and trial.attempts == 2 and "SIGKILL" in (trial.error or "")

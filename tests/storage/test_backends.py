"""Whole studies on every backend: a gated study runs, a person decides, the audit chain holds; writers from
several processes' worth of connections never break the chain."""

from __future__ import annotations

import threading

from evoforge import Store
from evoforge.goal import goal_from_dict
from evoforge.oversight import verify_chain
from evoforge.study import run_study
from evoforge.study._review import decide

NB201 = "data/nasbench201/nb201_cifar10.csv.gz"


def test_a_gated_study_runs_is_decided_and_verifies(storage: str) -> None:
    goal = {
        "study": "gated",
        "task": {"name": "nasbench201", "path": NB201},
        "objectives": {"val_accuracy": "max"},
        "budget": {"trials": 12},
        "search": {"seed": 0},
        "oversight": {"promotion": "human"},
    }
    run_study(goal_from_dict(goal), storage, workers=0)
    store = Store(storage)
    study = store.get_study("gated")
    assert study is not None
    assert store.count_trials(study.id).get("complete") == 12
    pending = [c for c in store.promotions(study.id) if c.state == "pending"]
    assert len(pending) == 1  # seed 0: trial #2 beats the founding champion and waits for a person
    decide(store, study, pending[0].number, "approved", "alice", "clear gain")
    assert store.generations(study.id)[-1].trial_number == pending[0].trial_number
    status = verify_chain(store, study)
    assert status.ok, status


def test_concurrent_writers_keep_one_unbroken_chain(storage: str) -> None:
    study = Store(storage).create_study("busy", "{}")
    barrier = threading.Barrier(4)

    def write(worker: int) -> None:
        mine = Store(storage)  # its own engine and connections, like another process
        barrier.wait()
        for i in range(25):
            mine.log_event(study.id, "note", {"worker": worker, "i": i})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store = Store(storage)
    notes = [e for e in store.events(study.id) if e.kind == "note"]
    assert len(notes) == 100  # no write lost, none failed on a race for the chain's head
    assert verify_chain(store, store.get_study("busy")).ok  # type: ignore[arg-type]

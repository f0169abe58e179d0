"""Several coordinators for one study: one runs it, the others stand by (``evoforge run --standby``) and one of them
takes over when it dies; the study's accounting stays exact."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.chaos import audit, finished
from evoforge import Store
from tests.conftest import NB201_PATH

GOAL = {
    "study": "shared",
    "task": {"name": "nasbench201", "path": NB201_PATH, "sleep_s": 0.3},
    "objectives": {"val_accuracy": "max"},
    "budget": {"trials": 8},
    "search": {"seed": 0},
}


def test_standby_coordinators_take_over_from_one_that_dies(postgres_database: str, tmp_path: Path) -> None:
    # PostgreSQL, the store coordinators on several machines share (the lease is the same code on SQLite, whose
    # single-coordinator cases are in test_kill_and_resume.py).
    backend = postgres_database
    goal = tmp_path / "goal.json"
    goal.write_text(json.dumps(GOAL))
    cmd = [sys.executable, "-m", "evoforge", "run", str(goal), "--storage", backend, "--workers", "1", "--quiet"]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while finished(backend, "shared") < 2:
        assert first.poll() is None, first.stderr.read() if first.stderr else ""
        time.sleep(0.1)
    standbys = [
        subprocess.Popen([*cmd, "--standby"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    time.sleep(1)  # both are waiting for the lease
    assert all(s.poll() is None for s in standbys)
    first.send_signal(signal.SIGKILL)
    first.wait()
    outs = [s.communicate(timeout=300) for s in standbys]
    assert [s.returncode for s in standbys] == [0, 0], [err for _, err in outs]
    assert audit(backend, "shared", 8).problems == []
    store = Store(backend)
    study = store.get_study("shared")
    assert study is not None
    takers = [e.payload for e in store.events(study.id, "lease_taken")]
    # The first coordinator, then one standby taking over from it (the other waits, then finds the budget spent).
    assert len(takers) == 3 and takers[1]["from"] == takers[0]["owner"]
    assert sum("trial budget of 8 trials spent" in out for out, _ in outs) == 2

"""A user's objective with real processes: a script of theirs calling ``evoforge.optimize`` on the local pool, the
same objective from a goal file with the CLI, and an exact resume after ``kill -9`` of the coordinator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from evoforge import Store
from tests.conftest import process_alive

SCRIPT = """
import evoforge
from user_obj import objective

if __name__ == "__main__":  # worker processes are spawned: a script needs this guard
    result = evoforge.optimize(
        objective, study="script", storage="sqlite:///script.db", objectives={"val_loss": "min"}, trials=12,
        workers=2, goal={"scheduler": {"name": "asha", "min_epochs": 1, "eta": 3}},
    )
    print("best", result.best_value, "champion", result.champion.number, "held out", result.held_out)
"""


def _goal(trials: int) -> dict:  # type: ignore[type-arg]
    return {
        "study": "from-goal",
        "task": {"name": "python", "objective": "user_obj:objective"},
        "objectives": {"val_loss": "min"},
        "constraints": {"val_accuracy": {"min": 0.5}},
        "budget": {"trials": trials},
        "scheduler": {"name": "asha", "min_epochs": 1, "eta": 3},
        "search": {"seed": 1},
    }


def _in_flight(counts: dict[str, int]) -> bool:
    """Some trials finished and one is running: a moment to kill the coordinator at."""
    return counts.get("complete", 0) + counts.get("pruned", 0) >= 4 and counts.get("running", 0) > 0


def _counts(url: str, study: str) -> dict[str, int]:
    try:
        store = Store(url, create=False)
        record = store.get_study(study)
        return store.count_trials(record.id) if record else {}
    except Exception:
        return {}


def test_a_users_script_runs_its_objective_on_two_worker_processes(user_folder: Path) -> None:
    (user_folder / "search.py").write_text(SCRIPT)
    done = subprocess.run([sys.executable, "search.py"], cwd=user_folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("best ") and "held out 0." in done.stdout
    store = Store(f"sqlite:///{user_folder / 'script.db'}")
    study = store.get_study("script")
    assert study is not None
    trials = store.trials(study.id)
    assert {t.state for t in trials} <= {"complete", "pruned", "duplicate"} and any(t.state == "pruned" for t in trials)
    reports = store.events(study.id, "report")  # judged where the trials ran, at the scheduler's rungs
    assert reports and {e.payload["epoch"] for e in reports} <= {1, 3, 9}
    assert any(not e.payload["continue"] for e in reports)


def test_the_same_objective_runs_from_a_goal_file_and_resumes_exactly_after_kill_9(user_folder: Path) -> None:
    (user_folder / "goal.yaml").write_text(yaml.safe_dump(_goal(trials=16)))
    url = f"sqlite:///{user_folder / 'study.db'}"
    command = [sys.executable, "-m", "evoforge", "run", "goal.yaml", "--storage", url, "--workers", "2", "--quiet"]
    env = {**os.environ, "OBJECTIVE_SLEEP_S": "0.15"}  # each epoch takes a while: a trial is always in flight
    proc = subprocess.Popen(command, cwd=user_folder, env=env, stderr=subprocess.PIPE)
    end = time.monotonic() + 120
    while not _in_flight(_counts(url, "from-goal")) and time.monotonic() < end and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = Store(url)
    study = store.get_study("from-goal")
    assert study is not None
    before = {t.number: t.finished_at for t in store.trials(study.id) if t.state in ("complete", "pruned")}
    assert any(t.state == "running" for t in store.trials(study.id)), "nothing was in flight when it was killed"

    again = subprocess.run(command, cwd=user_folder, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    trials = [t for t in store.trials(study.id) if t.state != "duplicate"]
    assert len(trials) == 16 and all(t.state in ("complete", "pruned") for t in trials)
    assert all(t.finished_at == before[t.number] for t in trials if t.number in before)  # none run again
    finished = [e.trial_number for e in store.events(study.id) if e.kind in ("complete", "pruned")]
    assert sorted(finished) == sorted(t.number for t in trials)  # each recorded exactly once
    assert store.generations(study.id), "no champion was promoted on evidence"
    assert all(not process_alive(p) for p in _pids_of(proc.pid))


def _pids_of(parent: int) -> list[int]:
    return [int(d.name) for d in Path("/proc").iterdir() if d.name.isdigit() and _parent(d) == parent]


def _parent(entry: Path) -> int:
    try:
        return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1

"""A coordinator killed with SIGKILL at any moment loses no finished trial and counts none twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from evoforge import Store
from tests.conftest import nb201_goal, process_alive

TRIALS = 24


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _start(goal: Path, url: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "evoforge", "run", str(goal), "--storage", url, "--workers", "2", "--quiet"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for(url: str, complete_at_least: int, deadline_s: float = 120) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            store = Store(url)
            study = store.get_study("nb")
            counts = store.count_trials(study.id) if study else {}
        except Exception:
            counts = {}
        if counts.get("complete", 0) >= complete_at_least and counts.get("running", 0) > 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"study did not reach {complete_at_least} complete trials in time")


def test_kill_9_at_any_moment_then_resume_accounts_for_every_trial_exactly_once(tmp_path: Path) -> None:
    goal = nb201_goal(trials=TRIALS, search={"proposer": "evolution", "population": 4, "seed": 3})
    goal["task"]["sleep_s"] = 0.3  # each trial takes a while, so there is always one in flight to lose
    path = tmp_path / "goal.yaml"
    path.write_text(yaml.safe_dump(goal))
    url = f"sqlite:///{tmp_path / 'study.db'}"

    finished_before: dict[int, float] = {}
    for kill_after in (5, 12):
        proc = _start(path, url)
        _wait_for(url, kill_after)
        workers = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        store = Store(url)
        study = store.get_study("nb")
        assert study is not None
        trials = store.trials(study.id)
        assert any(t.state == "running" for t in trials), "nothing was in flight when the coordinator died"
        for t in trials:
            if t.state == "complete":
                assert finished_before.setdefault(t.number, t.finished_at or 0) == t.finished_at, (
                    f"finished trial {t.number} was run again"
                )
        time.sleep(1.0)
        assert workers and not any(process_alive(w) for w in workers), "workers outlived their coordinator"

    proc = _start(path, url)
    assert proc.wait(timeout=180) == 0, proc.stderr.read().decode() if proc.stderr else ""

    store = Store(url)
    study = store.get_study("nb")
    assert study is not None
    trials = store.trials(study.id)
    # After a resume the proposer may propose again what was in flight when it died: that repeat is recorded as a
    # duplicate, never trained and not charged, so the budget still buys exactly TRIALS trainings.
    duplicates = [t for t in trials if t.state == "duplicate"]
    assert all(t.attempts == 0 and t.started_at is None for t in duplicates)
    trials = [t for t in trials if t.state != "duplicate"]
    assert len(trials) == TRIALS and all(t.state == "complete" for t in trials)
    assert any(t.attempts >= 2 for t in trials), "no in-flight trial was re-run"
    by_number = {t.number: t for t in trials}
    for number, finished_at in finished_before.items():
        assert by_number[number].finished_at == finished_at
    complete_events = [e.trial_number for e in store.events(study.id, "complete")]
    assert sorted(complete_events) == sorted(by_number), "a trial was counted twice"
    gens = store.generations(study.id)
    assert [g.number for g in gens] == list(range(len(gens))) and gens
    assert all(g.held_out is not None for g in gens)
    assert len(store.events(study.id, "requeued")) == 2


def test_a_second_coordinator_on_a_running_study_is_refused(tmp_path: Path) -> None:
    goal = nb201_goal(trials=16, search={"proposer": "evolution", "population": 4, "seed": 5})
    goal["task"]["sleep_s"] = 0.6  # the first run has several seconds left when the second starts
    path = tmp_path / "goal.yaml"
    path.write_text(yaml.safe_dump(goal))
    url = f"sqlite:///{tmp_path / 'study.db'}"
    first = _start(path, url)
    _wait_for(url, 1)
    second = _start(path, url)
    assert second.wait(timeout=60) == 2
    assert second.stderr is not None and "is being run by another coordinator" in second.stderr.read().decode()
    assert first.wait(timeout=120) == 0
    store = Store(url)
    study = store.get_study("nb")
    assert study is not None
    trials = store.trials(study.id)
    assert [t.number for t in trials] == list(range(16)) and all(t.attempts == 1 for t in trials)
    assert sorted(e.trial_number for e in store.events(study.id, "complete")) == list(range(16))


def test_a_lease_on_this_machine_is_judged_by_its_process_elsewhere_by_its_heartbeat() -> None:
    import socket

    from evoforge.study._lease import LEASE_TTL_S, _lease_is_stale

    here, long_ago = socket.gethostname(), time.time() - 10 * LEASE_TTL_S
    assert not _lease_is_stale(f"{here}:{os.getpid()}", long_ago)  # alive, just busy with a long trial
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert _lease_is_stale(f"{here}:{dead.pid}", time.time())
    assert _lease_is_stale("elsewhere:123", long_ago)
    assert not _lease_is_stale("elsewhere:123", time.time())


def _wait_for_evidence(url: str, deadline_s: float = 120) -> None:
    """Until a promotion case is half-way: gathering, with some of its retrainings recorded."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            store = Store(url)
            study = store.get_study("nb")
            if study and any(c.state == "gathering" for c in store.promotions(study.id)) and store.replicates(study.id):
                return
        except Exception:
            pass
        time.sleep(0.02)
    raise AssertionError("no promotion case was half-way in time")


def test_a_coordinator_killed_while_gathering_evidence_finishes_the_case_on_resume(tmp_path: Path) -> None:
    from evoforge.oversight import verify_chain

    goal = nb201_goal(trials=8, search={"proposer": "evolution", "population": 4, "seed": 3})
    goal["task"]["sleep_s"] = 0.3
    path = tmp_path / "goal.yaml"
    path.write_text(yaml.safe_dump(goal))
    url = f"sqlite:///{tmp_path / 'study.db'}"
    proc = _start(path, url)
    _wait_for_evidence(url)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    half = len(Store(url).replicates(1))
    proc = _start(path, url)
    assert proc.wait(timeout=300) == 0, proc.stderr.read().decode() if proc.stderr else ""
    store = Store(url)
    study = store.get_study("nb")
    assert study is not None
    cases = store.promotions(study.id)
    assert cases and all(c.state in ("promoted", "declined") for c in cases)
    replicates = store.replicates(study.id)
    assert len(replicates) > half and len({(r.design_hash, r.seed) for r in replicates}) == len(replicates)
    assert store.generations(study.id)[0].held_out is not None
    assert verify_chain(store, study).ok


def test_a_person_decides_while_the_study_runs_and_the_study_goes_on_from_the_new_champion(tmp_path: Path) -> None:
    from evoforge.cli import main
    from evoforge.oversight import verify_chain

    # Short trials: the coordinator writes many times a second while the person's decision is checked and recorded.
    goal = nb201_goal(trials=200, search={"proposer": "evolution", "population": 4, "seed": 3})
    goal["task"]["sleep_s"] = 0.02
    goal["oversight"] = {"promotion": "human"}
    path = tmp_path / "goal.yaml"
    path.write_text(yaml.safe_dump(goal))
    url = f"sqlite:///{tmp_path / 'study.db'}"
    proc = _start(path, url)
    end = time.monotonic() + 120
    pending = None
    while pending is None and time.monotonic() < end:
        try:
            pending = next((c for c in Store(url).promotions(1) if c.state == "pending"), None)
        except Exception:
            pending = None
        time.sleep(0.02)
    assert pending is not None, "no promotion became pending"
    assert proc.poll() is None, "the study ended before a person could decide"
    assert main(["approve", str(pending.number), "--by", "alice", "--storage", url]) == 0
    assert proc.wait(timeout=300) == 0, proc.stderr.read().decode() if proc.stderr else ""
    store = Store(url)
    study = store.get_study("nb")
    assert study is not None
    gens = store.generations(study.id)
    assert gens[1].trial_number == pending.trial_number and "approved by alice" in gens[1].reason
    assert verify_chain(store, study).ok

"""Chaos run: a study of ``--trials`` trials on the NAS-Bench-201 table (each trial sleeps ``--sleep`` s so kills land
mid-trial) run by ``evoforge run`` in a subprocess, while this script SIGKILLs worker processes and the coordinator
itself at random points (the coordinator frozen first, so it dies with finished results unread); a killed
coordinator is started again (it resumes from the store). At the end it audits the store: every trial recorded
exactly once, none lost or left running, no work run to completion twice (the workers' result receipts), and prints
what it did.

    python benchmarks/chaos.py --trials 500 --workers 2 --kills 40 [--storage URL]

The reduced form runs in the tests (tests/study/test_chaos.py)."""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "data" / "nasbench201" / "nb201_cifar10.csv.gz"


@dataclass
class ChaosReport:
    trials: int
    kills: dict[str, int]
    coordinator_starts: int
    wall_s: float
    states: dict[str, int]
    requeued: int  # trials put back to run again (their work was lost)
    recovered: int  # results recorded from the spool (their worker or coordinator died before recording them)
    problems: list[str] = field(default_factory=list)


def children(pid: int) -> list[int]:
    """Worker processes of coordinator ``pid`` (its children started by multiprocessing's spawn)."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        ppid = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid:")), -1)
        if ppid == pid and b"spawn_main" in cmdline:
            found.append(int(entry))
    return found


def finished(url: str, study: str) -> int:
    """Trials with an outcome so far (0 before the study exists)."""
    from evoforge import Store

    try:
        store = Store(url, create=False)
        record = store.get_study(study)
        counts = store.count_trials(record.id) if record else {}
        store.engine.dispose()
    except Exception:  # the store may not exist yet
        return 0
    return sum(counts.get(s, 0) for s in ("complete", "failed", "pruned"))


def chaos_run(
    workdir: Path, trials: int, workers: int, kills: int, sleep_s: float, seed: int, storage: str | None = None
) -> ChaosReport:
    """Run the study under ``kills`` random kills (at least one of the coordinator and one of a worker, at random
    points of its progress) and audit the store afterwards."""
    rng = random.Random(seed)
    url = storage or f"sqlite:///{workdir / 'chaos.db'}"
    goal = {
        "study": f"chaos-{seed}",
        "task": {"name": "nasbench201", "path": str(TABLE), "sleep_s": sleep_s},
        "objectives": {"val_accuracy": "max"},
        "budget": {"trials": trials, "trial_retries": 5},
        "search": {"seed": seed},
    }
    goal_file = workdir / "chaos.json"
    goal_file.write_text(json.dumps(goal))
    kinds = ["coordinator", "worker"] + [rng.choice(["coordinator", "worker", "worker"]) for _ in range(kills - 2)]
    rng.shuffle(kinds)
    points = sorted(rng.sample(range(1, max(trials - 1, kills + 1)), kills))
    plan = collections.deque(zip(points, kinds, strict=True))
    done_kills: collections.Counter[str] = collections.Counter()
    cmd = [sys.executable, "-m", "evoforge", "run", str(goal_file), "--storage", url, "--workers", str(workers)]
    started, starts = time.monotonic(), 0
    log = open(workdir / "coordinator.log", "w")  # noqa: SIM115 - appended to by every coordinator started
    while True:
        proc = subprocess.Popen([*cmd, "--quiet"], stdout=log, stderr=log, cwd=workdir)
        starts += 1
        killed = False
        while proc.poll() is None:
            time.sleep(0.05)
            if not plan or finished(url, str(goal["study"])) < plan[0][0]:
                continue
            _, kind = plan.popleft()
            if kind == "worker":
                busy = children(proc.pid)
                if busy:
                    os.kill(rng.choice(busy), signal.SIGKILL)
                    done_kills["worker"] += 1
                continue
            # Frozen first, for up to two trials' time, while its workers finish and hand back results it never
            # reads: killed then, it dies with results in flight, the worst moment for a coordinator to die.
            proc.send_signal(signal.SIGSTOP)
            time.sleep(rng.uniform(0.0, 2 * sleep_s))
            proc.send_signal(signal.SIGKILL)
            done_kills["coordinator"] += 1
            killed = True
        proc.wait()
        if not killed:
            if proc.returncode != 0:
                tail = (workdir / "coordinator.log").read_text()[-2000:]
                raise RuntimeError(f"the coordinator failed (exit {proc.returncode}):\n{tail}")
            break
    log.close()
    report = audit(url, str(goal["study"]), trials)
    report.kills, report.coordinator_starts, report.wall_s = dict(done_kills), starts, time.monotonic() - started
    return report


def audit(url: str, study: str, budget: int) -> ChaosReport:
    """What the store says happened, and every way it falls short of exact accounting."""
    from evoforge import Store
    from evoforge.storage import FINISHED_STATES, UNCHARGED_STATES

    store = Store(url, create=False)
    record = store.get_study(study)
    assert record is not None, f"study {study!r} is not in the store"
    rows = store.trials(record.id)
    states = collections.Counter(t.state for t in rows)
    problems = []
    numbers = [t.number for t in rows]
    if numbers != list(range(len(rows))):
        problems.append(f"trial numbers are not 0..{len(rows) - 1} each once")
    charged = sum(n for s, n in states.items() if s not in UNCHARGED_STATES)
    if charged != budget:
        problems.append(f"{charged} trials charged to a budget of {budget}")
    if set(states) - set(FINISHED_STATES):
        problems.append(f"trials left unfinished: {dict(states)}")
    endings = collections.Counter(e.trial_number for e in store.events(record.id) if e.kind in FINISHED_STATES)
    twice = [n for n, k in endings.items() if k != 1]
    if twice or len(endings) != len(rows):
        problems.append(f"outcomes recorded other than once: {twice[:10]} ({len(endings)} for {len(rows)} trials)")
    receipts = store.receipts(record.id)
    per_work = collections.Counter((n, piece) for n, _, piece in receipts)
    again = [work for work, k in per_work.items() if k > 1]
    if again:
        problems.append(f"work run to completion more than once: {again[:10]}")
    unreceipted = [t.number for t in rows if t.state == "complete" and (t.number, 0) not in per_work]
    if unreceipted:
        problems.append(f"complete trials with no worker receipt: {unreceipted[:10]}")
    requeued = sum(len(e.payload.get("trials", [])) for e in store.events(record.id, "requeued"))
    recovered = sum(len(e.payload.get("trials", [])) for e in store.events(record.id, "recovered"))
    store.engine.dispose()
    return ChaosReport(budget, {}, 0, 0.0, dict(states), requeued, recovered, problems)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--trials", type=int, default=500)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--kills", type=int, default=40)
    p.add_argument("--sleep", type=float, default=0.2, help="seconds each trial takes")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--storage", help="a PostgreSQL URL (default: a fresh SQLite file per run)")
    args = p.parse_args()
    print(f"command: python benchmarks/{Path(__file__).name} {' '.join(sys.argv[1:])}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    head = ["seed", "store", "trials", "kills (coordinator / worker)", "coordinator starts", "requeued", "recovered"]
    print("| " + " | ".join([*head, "wall s", "outcome"]) + " |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|")
    failed = False
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            r = chaos_run(Path(tmp), args.trials, args.workers, args.kills, args.sleep, seed, args.storage)
        store = "PostgreSQL" if args.storage else "SQLite"
        kills = f"{r.kills.get('coordinator', 0)} / {r.kills.get('worker', 0)}"
        outcome = "exact: " + ", ".join(f"{n} {s}" for s, n in sorted(r.states.items()))
        if r.problems:
            outcome, failed = "; ".join(r.problems), True
        row = [seed, store, r.trials, kills, r.coordinator_starts, r.requeued, r.recovered, f"{r.wall_s:.0f}", outcome]
        print("| " + " | ".join(map(str, row)) + " |", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

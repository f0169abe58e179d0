"""Benchmark: the coordinator's own cost per trial, and how busy it keeps the workers.

a. Coordinator time per trial on the tabular NAS-Bench-201 task, whose trials are table lookups: a study of
   ``--trials`` trials run in-process (``workers=0``: coordinator + store + proposer + lookup, nothing else), once
   plain for the timing and once under cProfile for a breakdown; then the same on the local process pool
   (``--workers`` processes), which adds inter-process messaging. Target: <= 5 ms per trial in-process.
b. Worker utilization: ``--util-trials`` trials that each sleep ``--sleep-s`` seconds, on ``--workers`` workers.
   Utilization = summed trial busy time / (workers x window); the window is first trial start to last trial
   finish, or the whole ``run_study`` call (worker start-up and shutdown included). Target: >= 90 %.
Every study uses a fresh SQLite file in a temporary folder.

    python benchmarks/overhead.py --trials 1000 --util-trials 40
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import pstats
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from unittest import mock

from evoforge.executors import LocalPool, Outcome
from evoforge.goal import Goal, goal_from_dict
from evoforge.storage import Store, TrialRecord
from evoforge.study import run_study

LOOKUP = "&nbsp;&nbsp;of which NB201Task.evaluate (the table lookup)"
OUTCOMES: list[Outcome] = []  # every outcome the timed pool returned, with the workers' own timestamps


class TimedPool(LocalPool):
    """The local pool, unchanged, except that it keeps the outcomes (the store drops the workers' timestamps)."""

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        out = super().wait(timeout)
        OUTCOMES.extend(out)
        return out


def nb201_goal(study: str, trials: int, path: str, sleep_s: float = 0.0) -> Goal:
    task = {"name": "nasbench201", "path": path, **({"sleep_s": sleep_s} if sleep_s else {})}
    goal = {"study": study, "task": task, "objectives": {"val_accuracy": "max"}, "budget": {"trials": trials}}
    return goal_from_dict({**goal, "search": {"proposer": "evolution", "seed": 0}})


def run(goal: Goal, url: str, workers: int, profile: cProfile.Profile | None = None) -> tuple[float, list[TrialRecord]]:
    """Run the study; returns the wall time of ``run_study`` and the trials as stored."""
    OUTCOMES.clear()
    with mock.patch("evoforge.executors.LocalPool", TimedPool):
        t0 = time.perf_counter()
        with profile or contextlib.nullcontext():
            run_study(goal, url, workers=workers, quiet=True)
        wall = time.perf_counter() - t0
    store = Store(url)
    study = store.get_study(goal.study)
    assert study is not None
    trials = [t for t in store.trials(study.id) if t.state == "complete"]
    store.engine.dispose()
    assert len(trials) == goal.budget.trials, f"expected {goal.budget.trials} complete trials, got {len(trials)}"
    return wall, trials


def span(trials: list[TrialRecord]) -> float:
    """First proposal recorded to last outcome recorded, from the store's timestamps."""
    return max(t.finished_at or 0.0 for t in trials) - min(t.created_at for t in trials)


BUCKETS = {  # what the coordinator module calls, by where it is defined
    "evoforge/storage/": "store: Store.{name}",
    "evoforge/proposers/": "proposer: {name}",
    "evoforge/executors/": "trial: executor -> run_trial -> task.evaluate",
    "evoforge/study/_setup.py": "setup: task (table load), space, proposer",
}


def bucket(path: str, name: str) -> str:
    return next((v.format(name=name) for k, v in BUCKETS.items() if k in path), "other (progress, scoring, ...)")


def breakdown(profile: cProfile.Profile) -> dict[str, float]:
    """Cumulative seconds of everything the coordinator module calls, grouped by what was called."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    out: dict[str, float] = defaultdict(float)
    for (path, _line, name), (_cc, _nc, tottime, cumtime, callers) in stats.items():
        if path.endswith("evoforge/study/_loop.py"):
            out["coordinator's own code (study/_loop.py)"] += tottime
            continue
        for (caller_path, _l, _n), caller_stats in callers.items():
            if caller_path.endswith("evoforge/study/_loop.py"):
                out[bucket(path, name)] += caller_stats[3]
        if path.endswith("evoforge/tasks/_nasbench201.py") and name == "evaluate":
            out[LOOKUP] += cumtime
    return dict(out)


def overhead(args: argparse.Namespace, folder: Path) -> None:
    print(f"## a. Coordinator time per trial ({args.trials} instantaneous NAS-Bench-201 trials)\n")
    print("| executor | trials | run_study wall (s) | ms / trial, whole call | ms / trial, proposal 1 -> last record |")
    print("|---|---:|---:|---:|---:|")
    for label, workers in (("in-process (workers=0)", 0), (f"local pool (workers={args.workers})", args.workers)):
        goal = nb201_goal(f"overhead-w{workers}", args.trials, args.table)
        wall, trials = run(goal, f"sqlite:///{folder / f'overhead-w{workers}.db'}", workers)
        n = len(trials)
        print(f"| {label} | {n} | {wall:.2f} | {wall / n * 1e3:.2f} | {span(trials) / n * 1e3:.2f} |")

    profile = cProfile.Profile()
    goal = nb201_goal("overhead-profiled", args.trials, args.table)
    wall, trials = run(goal, f"sqlite:///{folder / 'overhead-profiled.db'}", 0, profile)
    n = len(trials)
    print(f"\nBreakdown under cProfile (workers=0; profiling inflates times, {wall / n * 1e3:.2f} ms / trial):\n")
    print("| part | ms / trial | share of run_study |")
    print("|---|---:|---:|")
    parts = breakdown(profile)
    lookup = parts.pop(LOOKUP, 0.0)
    for part, seconds in sorted(parts.items(), key=lambda kv: -kv[1]):
        print(f"| {part} | {seconds / n * 1e3:.3f} | {seconds / wall:.1%} |")
        if part.startswith("trial:"):
            print(f"| {LOOKUP} | {lookup / n * 1e3:.3f} | {lookup / wall:.1%} |")
    print(f"| total (run_study under cProfile) | {wall / n * 1e3:.3f} | 100.0% |")


def utilization(args: argparse.Namespace, folder: Path) -> None:
    w, n = args.workers, args.util_trials
    print(f"\n## b. Worker utilization ({n} trials of {args.sleep_s:g} s on {w} workers)\n")
    goal = nb201_goal("utilization", n, args.table, sleep_s=args.sleep_s)
    wall, trials = run(goal, f"sqlite:///{folder / 'utilization.db'}", w)
    assert len(OUTCOMES) == n
    worker_busy = sum((o.finished_at or 0.0) - (o.started_at or 0.0) for o in OUTCOMES)
    store_busy = sum((t.finished_at or 0.0) - (t.started_at or 0.0) for t in trials)
    window = max(o.finished_at or 0.0 for o in OUTCOMES) - min(o.started_at or 0.0 for o in OUTCOMES)
    store_window = max(t.finished_at or 0.0 for t in trials) - min(t.started_at or 0.0 for t in trials)
    ideal = n * args.sleep_s / w
    print(f"ideal wall time {ideal:.1f} s; run_study wall {wall:.2f} s; first start to last finish {window:.2f} s\n")
    print("| busy time measured by | busy (s) | utilization, first start to last finish | utilization, whole call |")
    print("|---|---:|---:|---:|")
    for label, busy, span_s in (
        ("worker (job received -> result ready)", worker_busy, window),
        ("store (TrialRecord.finished_at - started_at)", store_busy, store_window),
    ):
        print(f"| {label} | {busy:.2f} | {busy / (w * span_s):.1%} | {busy / (w * wall):.1%} |")
    gaps = (w * window - worker_busy) / n * 1e3
    print(f"\nidle worker time per trial inside the window: {gaps:.1f} ms; start-up + shutdown: {wall - window:.2f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=1000, help="trials for the overhead measurement (default 1000)")
    p.add_argument("--workers", type=int, default=2, help="local pool size (default 2)")
    p.add_argument("--util-trials", type=int, default=40, help="trials for the utilization measurement (default 40)")
    p.add_argument("--sleep-s", type=float, default=1.0, help="duration of one utilization trial (default 1.0)")
    p.add_argument("--table", default="data/nasbench201/nb201_cifar10.csv.gz", help="NAS-Bench-201 table")
    p.add_argument("--skip", choices=("overhead", "utilization"), default=None, help="leave one part out")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="evoforge-overhead-") as tmp:
        if args.skip != "overhead":
            overhead(args, Path(tmp))
        if args.skip != "utilization":
            utilization(args, Path(tmp))


if __name__ == "__main__":
    main()

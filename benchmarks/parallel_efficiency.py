"""Parallel efficiency on real training trials: the local process pool vs Ray, at 1, 2, ... workers.

Every configuration runs the same study from scratch (fresh SQLite file): ``--trials`` digits trials, ``--epochs``
epochs, one torch thread each, from the random proposer with a fixed seed, so every run trains the same designs. The
only evidence retrainings are the first result's (a noise margin of 1), and trial 0, a tiny design, keeps them cheap.
The local pool starts its processes (which import torch on their first trial) inside the timed region, as every
``evoforge run`` does; Ray's start-up and an untimed warm-up study are reported, not timed, so timed Ray runs find
their workers warm, which a new ``evoforge run`` (a new Ray job) does not. Medians over ``--repeats`` of: wall s
around ``run_study``, trials/min, speedup over the same executor at the fewest workers, efficiency (speedup x fewest
/ workers), utilisation (summed trial ``started_at``..``finished_at`` / (workers x wall)), and that with evidence.

    python benchmarks/parallel_efficiency.py --trials 24 --workers 1 2
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evoforge.goal import Goal, goal_from_dict
from evoforge.storage import Store
from evoforge.study import run_study

EXECUTORS = ("local", "ray")
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    wall_s: float
    trial_busy_s: float  # summed started_at..finished_at of every trial
    evidence_busy_s: float  # the same for the evidence retrainings
    failed: int  # trials; none in a run that did the same work as the others


# Trial 0 (the start design): no conv blocks, so it trains in a fraction of a second and is the first result.
TINY_ARCH = {"blocks": [], "norm": "none", "activation": "relu", "dropout": 0.0, "pooling": "flatten", "hidden": [32]}
TINY_RECIPE = {"optimizer": "adamw", "lr": 0.01, "momentum": 0.9, "weight_decay": 0.0, "schedule": "cosine"}
SPACE = {"block_types": ["conv", "dsconv", "residual"], "max_blocks": 2, "widths": [16, 32], "batch_sizes": [32, 64]}


def make_goal(trials: int, epochs: int, seed: int) -> Goal:
    recipe = {**TINY_RECIPE, "batch_size": 64, "epochs": epochs, "label_smoothing": 0.0, "augment": "none"}
    return goal_from_dict(
        {
            "study": "parallel-efficiency",
            "task": {"name": "digits"},
            "space": {**SPACE, "hidden_widths": [16, 32, 64], "epochs": [epochs, epochs]},
            "objectives": {"val_accuracy": "max"},
            "budget": {"trials": trials, "trial_timeout_s": 300},
            "search": {"proposer": "random", "seed": seed, "start_from": {"arch": TINY_ARCH, "recipe": recipe}},
            "oversight": {"seeds": 2, "noise_margin": 1.0},
            "evaluation": {"device": "cpu", "threads": 1},
        }
    )


def _busy(records: list[Any]) -> float:
    return sum(r.finished_at - r.started_at for r in records if r.started_at is not None and r.finished_at)


def run_once(goal: Goal, executor: str, workers: int, address: str | None) -> Run:
    with tempfile.TemporaryDirectory(prefix="evoforge-parallel-") as tmp:
        url = f"sqlite:///{tmp}/x.db"
        started = time.perf_counter()
        run_study(goal, storage=url, workers=workers, executor=executor, address=address)
        wall = time.perf_counter() - started
        store = Store(url)
        study = store.get_study(goal.study)
        assert study is not None
        trials, replicates = store.trials(study.id), store.replicates(study.id)
        store.engine.dispose()
    return Run(wall, _busy(trials), _busy(replicates), sum(t.state == "failed" for t in trials))


def median_run(runs: list[Run]) -> Run:
    wall, trial, evidence = (
        statistics.median(getattr(r, f) for r in runs) for f in ("wall_s", "trial_busy_s", "evidence_busy_s")
    )
    return Run(wall, trial, evidence, max(r.failed for r in runs))


def start_ray(goal: Goal, workers: int, address: str | None) -> str:
    import ray

    started = time.perf_counter()
    if address:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    else:  # "local": a new instance, never a cluster someone else started on this machine
        ray.init("local", num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
    init = time.perf_counter() - started
    budget = goal.budget.model_copy(update={"trials": workers})
    warm = run_once(goal.model_copy(update={"budget": budget}), "ray", workers, None)
    where = address or f"local instance, {workers} CPUs"
    return f"Ray ({where}): ray.init {init:.1f} s, untimed warm-up study of {workers} trials {warm.wall_s:.1f} s"


def print_table(results: dict[tuple[str, int], Run], workers: list[int], trials: int, epochs: int) -> None:
    print(f"\n{trials} digits trials per study, {epochs} epochs each, 1 thread per trial\n")
    print("| executor | workers | wall s | trials/min | speedup | efficiency | utilisation | + evidence |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for (executor, w), r in results.items():
        base = results[(executor, workers[0])].wall_s
        speedup, flag = base / r.wall_s, " *" if r.failed else ""
        print(
            f"| {executor}{flag} | {w} | {r.wall_s:.1f} | {60 * trials / r.wall_s:.1f} | {speedup:.2f} | "
            f"{speedup * workers[0] / w:.2f} | {r.trial_busy_s / (w * r.wall_s):.2f} | "
            f"{(r.trial_busy_s + r.evidence_busy_s) / (w * r.wall_s):.2f} |"
        )
    if any(r.failed for r in results.values()):
        print("\n* trials failed: that configuration did less work than the others")
    ratios = [f"x{w} {results[('ray', w)].wall_s / results[('local', w)].wall_s:.2f}" for w in workers]
    print(f"\nRay / local wall time: {', '.join(ratios)}")
    busy = ", ".join(f"{e} x{w} {r.trial_busy_s:.1f} s" for (e, w), r in results.items())
    print(f"summed trial busy time (same designs in every run): {busy}")


def _revision() -> str:
    """The checkout's commit, "-dirty" when tracked files differ from it (read-only: writes no index refresh)."""
    git = ["git", "--no-optional-locks", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    changed = subprocess.run([*git, "status", "--porcelain", "-uno"], capture_output=True, text=True).stdout.strip()
    return (head or "unknown") + ("-dirty" if changed else "")


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--trials", type=int, default=24, help="trials per study (default 24)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    p.add_argument("--repeats", type=int, default=1, help="runs per configuration; medians are reported")
    p.add_argument("--epochs", type=int, default=20, help="epochs per trial (20: about 1-3 s on one core)")
    p.add_argument("--address", default=None, help="an existing Ray cluster (default: a local instance)")
    args = p.parse_args()
    goal, workers = make_goal(args.trials, args.epochs, seed=0), sorted(set(args.workers))
    load = os.getloadavg()[0]
    results: dict[tuple[str, int], Run] = {}
    notes = []
    for executor in EXECUTORS:  # local first: no idle Ray processes share the cores with it
        if executor == "ray":
            notes.append(start_ray(goal, max(workers), args.address))
        runs: dict[int, list[Run]] = {w: [] for w in workers}
        for _ in range(args.repeats):  # repeats interleaved over worker counts, so a drift in load hits all
            for w in workers:
                runs[w].append(run_once(goal, executor, w, args.address if executor == "ray" else None))
                print(f"{executor} x{w}: {runs[w][-1].wall_s:.1f} s", file=sys.stderr, flush=True)
        results.update({(executor, w): median_run(rs) for w, rs in runs.items()})
        if executor == "ray":
            import ray

            ray.shutdown()

    print_table(results, workers, args.trials, args.epochs)
    for note in notes:
        print(note)
    print(f"\ncommand: {shlex.join(['python', *sys.argv])} (evoforge at {_revision()})")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {platform.system()}, "
        f"Python {platform.python_version()}; load average at start {load:.2f}; {datetime.date.today()}"
    )


if __name__ == "__main__":
    main()

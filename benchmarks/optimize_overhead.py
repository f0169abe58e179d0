"""Per-trial overhead of ``evoforge.optimize`` against Optuna's ``study.optimize`` on a trivial objective.

The objective is ``x = trial.suggest_float("x", -10, 10); return (x - 2) ** 2`` (microseconds), so the time per
trial is the library's own: proposing, recording, and for evoforge the evidence gate (its retrainings call the
objective too; they are counted). Each row is the median of ``--repeats`` runs, each in a fresh store (a fresh SQLite
file in a temporary folder; Optuna also in memory). The whole call is timed: opening the store, for ``workers=1``
starting and stopping the worker process. A small untimed run of each first, so imports are not counted.

Rows: Optuna (default sampler: TPE) in memory and on SQLite; evoforge's default search with ``workers=0`` (in this
process) and ``workers=1`` (one worker process); and two diagnostics that take one part away: evoforge with the
random proposer (no Gaussian process), and with an evidence gate that never triggers (``noise_margin`` 1e9: only the
first design is retrained).

    nice -n 10 .venv/bin/python benchmarks/optimize_overhead.py --trials 100 300 --repeats 3
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import optuna

import evoforge


def objective(trial: Any) -> float:
    x = trial.suggest_float("x", -10, 10)
    return (x - 2) ** 2


@dataclass(frozen=True)
class Timing:
    wall_s: float  # the whole call
    span_s: float  # first trial's start to last trial's end, as the store recorded them (set-up and teardown left out)
    calls: int  # objective calls: trials plus, for evoforge, evidence retrainings


def optuna_run(trials: int, folder: Path, sqlite: bool, seed: int) -> Timing:
    storage = f"sqlite:///{folder / f'optuna-{time.perf_counter_ns()}.db'}" if sqlite else None
    started = time.perf_counter()
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    wall = time.perf_counter() - started
    first, last = study.trials[0].datetime_start, study.trials[-1].datetime_complete
    assert first is not None and last is not None
    return Timing(wall, (last - first).total_seconds(), trials)


def evoforge_run(trials: int, folder: Path, workers: int, seed: int, goal: dict[str, Any] | None = None) -> Timing:
    url = f"sqlite:///{folder / f'evoforge-{time.perf_counter_ns()}.db'}"
    started = time.perf_counter()
    evoforge.optimize(objective, study="overhead", storage=url, trials=trials, seed=seed, workers=workers, goal=goal)
    wall = time.perf_counter() - started
    store = evoforge.Store(url)
    study = store.get_study("overhead")
    assert study is not None
    charged = [t for t in store.trials(study.id) if t.state == "complete"]
    extra = len(store.replicates(study.id))
    store.engine.dispose()
    assert len(charged) == trials, f"expected {trials} complete trials, got {len(charged)}"
    span = max(t.finished_at or 0.0 for t in charged) - min(t.created_at for t in charged)
    return Timing(wall, span, trials + extra)


Runner = Callable[[int, Path, int], Timing]
RUNNERS: dict[str, Runner] = {
    "Optuna, in memory": lambda n, f, s: optuna_run(n, f, False, s),
    "Optuna, SQLite": lambda n, f, s: optuna_run(n, f, True, s),
    "evoforge, workers=0": lambda n, f, s: evoforge_run(n, f, 0, s),
    "evoforge, workers=1": lambda n, f, s: evoforge_run(n, f, 1, s),
    "evoforge, workers=0, random proposer (diagnostic)": lambda n, f, s: evoforge_run(
        n, f, 0, s, {"search": {"proposer": "random"}}
    ),
    "evoforge, workers=0, gate never triggers (diagnostic)": lambda n, f, s: evoforge_run(
        n, f, 0, s, {"oversight": {"noise_margin": 1e9}}
    ),
}


def ratio(x: float) -> str:
    return f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def table(results: dict[tuple[str, int], list[Timing]], n: int) -> str:
    def ms(label: str, span: bool = False) -> float:
        return statistics.median(t.span_s if span else t.wall_s for t in results[(label, n)]) / n * 1e3

    lines = [
        "| method | ms / trial, whole call | × Optuna in memory | × Optuna SQLite "
        "| ms / trial, first trial to last | objective calls |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    memory, sqlite = ms("Optuna, in memory"), ms("Optuna, SQLite")
    for label in RUNNERS:
        calls = statistics.median(t.calls for t in results[(label, n)])
        mine = ms(label)
        lines.append(
            f"| {label} | {mine:.2f} | {ratio(mine / memory)} | {ratio(mine / sqlite)} | {ms(label, True):.2f} "
            f"| {calls:.0f} |"
        )
    return "\n".join(lines)


def header() -> None:
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if "model name" in ln),
        platform.processor(),
    )
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    pkgs = ", ".join(f"{p} {version(p)}" for p in ("evoforge", "optuna", "SQLAlchemy", "numpy"))
    print("## Per-trial overhead: evoforge.optimize vs Optuna's study.optimize (trivial objective)\n")
    print(f"command: `{' '.join([Path(sys.executable).name, *sys.argv])}`\n")
    print(f"machine: {cpu}, {os.cpu_count()} cores, {platform.platform()}\n")
    print(f"<!-- {datetime.date.today()} | commit {commit} | Python {platform.python_version()} | {pkgs} -->\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--repeats", type=int, default=3, help="runs per row; the median is shown (default 3)")
    args = parser.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    header()
    results: dict[tuple[str, int], list[Timing]] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="optimize-overhead-") as tmp:
        folder = Path(tmp)
        for runner in RUNNERS.values():  # imports and first-call set-up, untimed
            runner(5, folder, 0)
        for repeat in range(args.repeats):
            for n in args.trials:
                for label, runner in RUNNERS.items():  # interleaved, so a busy moment hits every row alike
                    results.setdefault((label, n), []).append(runner(n, folder, repeat))
    print(f"Median of {args.repeats} runs (seeds 0..{args.repeats - 1}); objective calls = trials + evoforge's")
    print("evidence retrainings (median).")
    for n in args.trials:
        print(f"\n{n} trials:\n")
        print(table(results, n))
    print(f"\nwall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

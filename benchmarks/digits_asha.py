"""Benchmark: ASHA vs full-fidelity evolution on digits at equal wall time.

Protocol: the same goal for every method — bundled 8x8 digits, objective ``val_accuracy: max``, params <= 200,000, a
macro space with epochs in ``--epochs`` (default [2, 40]), regularized evolution (population ``--population``) from
random designs (``--weak-start``: from the demo's weak design instead), CPU, one thread per worker, ``--workers`` (2)
workers — with budget ``{trials: 10000, wall_time_s: W}`` (``--wall``, default 240 s), so the wall time is what runs
out. Methods (``--methods``): ``none`` trains every trial to the end; ``asha`` stops trials at rungs of m, 3m, 9m ...
epochs (m = ``--min-epochs``, default 1) unless in the top 1/3 at that rung (eta 3); ``hyperband`` adds brackets
starting at 3m and 9m epochs. The wall-time budget stops new proposals; trials in flight then finish (ASHA may keep
training a trial that passes its rung), so a run can end a little after W: champions are reported at 25 %, 50 % and
100 % of W (times from just before ``run_study`` is called, worker start-up included) and at the end.

Each search seed (``--seed`` .. ``--seed + --seeds - 1``) runs every method, one after the other, each in a fresh
SQLite file in a temporary folder; a champion's test accuracy is the one evoforge measures right after its promotion.
Key figure: the time at which ASHA's champion first reached the full-fidelity run's final champion accuracy (test, and
validation), as a fraction of W. Target: the same accuracy in at most half the wall time.

    python benchmarks/digits_asha.py --wall 240 --seeds 3 --workers 2 --epochs 10 40 --min-epochs 2

"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evoforge.cli._demo import WEAK_DIGITS_DESIGN
from evoforge.goal import goal_from_dict
from evoforge.storage import GenerationRecord, Store
from evoforge.study import run_study

FRACTIONS = (0.25, 0.5, 1.0)


@dataclass(frozen=True)
class Champion:
    at_s: float  # seconds since the run started
    trial: int
    val: float
    test: float | None


@dataclass(frozen=True)
class Run:
    method: str
    seed: int
    wall_s: float
    counts: dict[str, int]
    epochs_trained: int
    champions: list[Champion]

    def at(self, seconds: float) -> Champion | None:
        """The champion at ``seconds`` after the start."""
        before = [c for c in self.champions if c.at_s <= seconds]
        return before[-1] if before else None

    def first_reaching(self, value: float, which: str) -> Champion | None:
        for c in self.champions:
            got = c.test if which == "test" else c.val
            if got is not None and got >= value - 1e-12:
                return c
        return None

    @property
    def final(self) -> Champion | None:
        return self.champions[-1] if self.champions else None


def machine() -> str:
    return f"{platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"


def make_goal(method: str, seed: int, wall: float, args: argparse.Namespace) -> dict[str, Any]:
    population, weak_start = args.population, args.weak_start
    scheduler = {"name": method} if method == "none" else {"name": method, "min_epochs": args.min_epochs, "eta": 3}
    return {
        "study": f"digits-{method}-seed{seed}",
        "task": {"name": "digits"},
        "space": {"epochs": list(args.epochs)},
        "objectives": {"val_accuracy": "max"},
        "constraints": {"params": {"max": 200_000}},
        "budget": {"trials": 10_000, "wall_time_s": wall, "trial_timeout_s": 120},
        "search": {
            "proposer": "evolution",
            "population": population,
            "seed": seed,
            "start_from": WEAK_DIGITS_DESIGN if weak_start else None,
        },
        "scheduler": scheduler,
        "evaluation": {"device": "cpu", "threads": 1},
    }


def fmt(x: float | None, spec: str = ".4f") -> str:
    return "-" if x is None else format(x, spec)


def run_once(method: str, seed: int, args: argparse.Namespace, folder: Path) -> Run:
    goal = goal_from_dict(make_goal(method, seed, args.wall, args))
    url = f"sqlite:///{folder / f'{method}-seed{seed}.db'}"
    t0 = time.time()
    report = run_study(goal, url, workers=args.workers, quiet=True)
    wall = time.time() - t0
    store = Store(url)
    study = store.get_study(goal.study)
    assert study is not None
    gens: list[GenerationRecord] = store.generations(study.id)
    trials = store.trials(study.id)
    store.engine.dispose()
    epochs = 0
    for t in trials:
        if t.state == "complete":
            epochs += int(t.design.genes["recipe"]["epochs"])
        elif t.state == "pruned":
            epochs += int(t.info.get("epoch", 0))
    champions = [Champion(g.created_at - t0, g.trial_number, abs(g.score), g.test_accuracy) for g in gens]
    run = Run(method, seed, wall, dict(report.trials), epochs, champions)

    states = ", ".join(f"{k} {v}" for k, v in sorted(report.trials.items()) if v)
    print(f"\n### {method}, search seed {seed}: {report.stopped_because}; wall {wall:.1f} s; {states}; ")
    print(f"{epochs} epochs trained in all\n")
    print("| generation | trial | val acc | test acc | promoted at (s) | fraction of W |")
    print("|---:|---:|---:|---:|---:|---:|")
    for g, c in zip(gens, champions, strict=True):
        print(f"| {g.number} | {c.trial} | {c.val:.4f} | {fmt(c.test)} | {c.at_s:.1f} | {c.at_s / args.wall:.2f} |")
    return run


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--wall", type=float, default=240.0, help="wall-time budget W per run, seconds (default 240)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("--seed", type=int, default=0, help="first search seed (default 0)")
    p.add_argument("--seeds", type=int, default=2, help="number of search seeds (default 2)")
    p.add_argument("--population", type=int, default=16, help="evolution population (default 16)")
    p.add_argument("--methods", default="none,asha", help="comma-separated: none, asha, hyperband (default none,asha)")
    p.add_argument("--weak-start", action="store_true", help="start from the demo's weak design, not random designs")
    p.add_argument("--epochs", type=int, nargs=2, default=(2, 40), help="the space's epochs range (default 2 40)")
    p.add_argument("--min-epochs", type=int, default=1, help="first rung of asha / hyperband (default 1)")
    args = p.parse_args()
    methods = args.methods.split(",")
    if methods[0] != "none":
        p.error("--methods: the first method must be none (the full-fidelity reference)")

    print(f"# {__doc__.splitlines()[0]}\n")
    print(f"command: `{shlex.join([Path(sys.executable).name, *sys.argv])}`  ")
    print(f"machine: {machine()}  ")
    print(f"date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}  ")
    start = "the demo's weak design" if args.weak_start else "random designs"
    print(f"W = {args.wall:g} s, {args.workers} workers, evolution (population {args.population}) from {start}")
    print(f"space epochs {args.epochs[0]}..{args.epochs[1]}; rungs from {args.min_epochs} epochs, eta 3")

    runs: dict[tuple[str, int], Run] = {}
    seeds = list(range(args.seed, args.seed + args.seeds))
    t_all = time.time()
    with tempfile.TemporaryDirectory(prefix="evoforge-asha-") as tmp:
        for seed in seeds:
            for method in methods:
                runs[method, seed] = run_once(method, seed, args, Path(tmp))

    w = args.wall
    print("\n## Per run\n")
    head = " | ".join(f"val / test at {f:.0%} W" for f in FRACTIONS)
    print(f"| method | seed | wall s | complete | pruned | failed | epochs | {head} | val / test at end |")
    print("|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(FRACTIONS) + "---:|")
    for seed in seeds:
        for method in methods:
            r = runs[method, seed]
            cells = []
            for f in FRACTIONS:
                c = r.at(f * w)
                cells.append(f"{fmt(c.val if c else None)} / {fmt(c.test if c else None)}")
            e = r.final
            c_ = r.counts
            print(
                f"| {method} | {seed} | {r.wall_s:.0f} | {c_.get('complete', 0)} | {c_.get('pruned', 0)} | "
                f"{c_.get('failed', 0)} | {r.epochs_trained} | {' | '.join(cells)} | "
                f"{fmt(e.val if e else None)} / {fmt(e.test if e else None)} |"
            )

    print("\n## Time to reach the full-fidelity run's final champion accuracy (fraction of W; '-': never)\n")
    print("| method | seed | target test | reached test at | target val | reached val at | target met (<= 0.50 W) |")
    print("|---|---:|---:|---:|---:|---:|:---:|")
    reached: dict[str, dict[str, list[float | None]]] = {m: {"test": [], "val": []} for m in methods}
    for seed in seeds:
        ref = runs["none", seed].final
        if ref is None:
            continue
        for method in methods:
            r = runs[method, seed]
            row = []
            for which, target in (("test", ref.test), ("val", ref.val)):
                c = r.first_reaching(target, which) if target is not None else None
                frac = c.at_s / w if c else None
                reached[method][which].append(frac)
                row.append(f"{fmt(target)} | {fmt(frac, '.2f')}")
            test_frac = reached[method]["test"][-1]
            met = "yes" if test_frac is not None and test_frac <= 0.5 else "no"
            print(f"| {method} | {seed} | {' | '.join(row)} | {met} |")

    print("\n## Mean over seeds\n")
    print("| method | complete | pruned | epochs | val at 50 % W | test at 50 % W | val at end | test at end |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for method in methods:
        rs = [runs[method, s] for s in seeds]

        def mean(xs: list[float | None]) -> str:
            got = [x for x in xs if x is not None]
            return fmt(statistics.mean(got)) if got else "-"

        half = [r.at(0.5 * w) for r in rs]
        print(
            f"| {method} | {statistics.mean(r.counts.get('complete', 0) for r in rs):.1f} | "
            f"{statistics.mean(r.counts.get('pruned', 0) for r in rs):.1f} | "
            f"{statistics.mean(r.epochs_trained for r in rs):.0f} | "
            f"{mean([c.val if c else None for c in half])} | {mean([c.test if c else None for c in half])} | "
            f"{mean([r.final.val if r.final else None for r in rs])} | "
            f"{mean([r.final.test if r.final else None for r in rs])} |"
        )
    print()
    for method in methods:
        for which in ("test", "val"):
            fr = reached[method][which]
            got = [x for x in fr if x is not None]
            avg = f"mean {statistics.mean(got):.2f} W over the {len(got)} seed(s) that reached it" if got else ""
            print(f"- {method}: reached the full run's final {which} accuracy on {len(got)}/{len(fr)} seeds; {avg}")
    print(f"\ntotal wall time {time.time() - t_all:.1f} s")


if __name__ == "__main__":
    main()

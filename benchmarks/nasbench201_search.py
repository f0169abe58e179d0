"""Random search vs regularized evolution vs Optuna TPE on NAS-Bench-201 CIFAR-10 (tabular).

All methods run through one harness (:func:`run_search`) on the same 6-edge categorical space (5 ops per edge).
A query returns the 200-epoch validation accuracy of ONE training seed picked at random (noisy); after each query
the incumbent is the architecture with the best single validation reading seen so far, and the reported figure is
that incumbent's 200-epoch TEST accuracy (mean over training seeds), which the search never sees. Prints Markdown
tables of mean ± std over seeds after 50, 100 and 200 queries, and each method's search time per query (time spent
in ask + tell only, measured inside the worker process).

Run from the repository root::

    python benchmarks/nasbench201_search.py --seeds 50 --queries 200 --sweep

The main table's evolution rows use fixed settings for every seed (``--evolution P:S ...``): evoforge's default
(population 16, tournament 4), NATS-Bench's REA setting (10, 3), and (25, 10), the best at 100 queries in the
``--sweep`` table, which runs on seeds disjoint from the main table's so that choice is not fitted to them.
Optuna 5's TPE default is multivariate for one objective; a univariate (``multivariate=False``) row is an ablation.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import math
import multiprocessing
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from typing import Protocol

import optuna

from evoforge.design import Design
from evoforge.proposers import EvolutionProposer, Proposer, RandomProposer
from evoforge.spaces import NB201_OPS, NB201Space
from evoforge.tasks import EvalSettings, Task, make_task

CHECKPOINTS = (50, 100, 200)
SWEEP_SEED_OFFSET = 10_000  # the evolution sweep runs on seeds disjoint from the main table's
Results = dict[str, tuple[list[list[float]], list[float]]]  # label -> (curve per seed, ask+tell seconds per seed)


class Searcher(Protocol):
    """The ask/tell adapter every method is wrapped in."""

    def ask(self, number: int) -> Design: ...

    def tell(self, number: int, design: Design, score: float) -> None: ...


class ProposerSearcher:
    """Wraps an evoforge proposer."""

    def __init__(self, proposer: Proposer) -> None:
        self.proposer = proposer

    def ask(self, number: int) -> Design:
        return self.proposer.ask(number).design

    def tell(self, number: int, design: Design, score: float) -> None:
        self.proposer.tell(number, design, (score,))


class TPESearcher:
    """Optuna's TPESampler over six categorical parameters ``edge0..edge5``; ``multivariate=None`` is its default."""

    def __init__(self, seed: int, multivariate: bool | None = None) -> None:
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=multivariate)
        self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self.trials: dict[int, optuna.Trial] = {}

    def ask(self, number: int) -> Design:
        trial = self.trials[number] = self.study.ask()
        edges = [trial.suggest_categorical(f"edge{i}", list(NB201_OPS)) for i in range(6)]
        return Design.make("nb201", {"edges": edges})

    def tell(self, number: int, design: Design, score: float) -> None:
        self.study.tell(self.trials.pop(number), score)


def make_random(seed: int) -> Searcher:
    return ProposerSearcher(RandomProposer(NB201Space(), seed))


def make_evolution(seed: int, population: int, tournament: int) -> Searcher:
    return ProposerSearcher(EvolutionProposer(NB201Space(), seed, population=population, tournament=tournament))


def evolutions(settings: Sequence[tuple[int, ...]]) -> dict[str, Callable[[int], Searcher]]:
    """Evolution adapters labelled by (population, tournament)."""
    return {
        f"evolution P={p} S={s}": functools.partial(make_evolution, population=p, tournament=s) for p, s in settings
    }


def eval_seed(run_seed: int, number: int) -> int:
    """A distinct evaluation seed per (run, query): noise differs across queries and runs, not across methods."""
    return run_seed * 1_000_003 + number


def run_search(make: Callable[[int], Searcher], task: Task, seed: int, queries: int) -> tuple[list[float], float]:
    """One search of ``queries`` queries: the incumbent's test accuracy after each query, and ask+tell seconds."""
    searcher, settings = make(seed), EvalSettings()
    best_val, best, curve, search_s = -math.inf, None, [], 0.0
    for number in range(queries):
        t0 = time.perf_counter()
        design = searcher.ask(number)
        search_s += time.perf_counter() - t0
        val = task.evaluate(design, eval_seed(seed, number), settings).metrics["val_accuracy"]
        t0 = time.perf_counter()
        searcher.tell(number, design, val)
        search_s += time.perf_counter() - t0
        if val > best_val:
            best_val, best = val, design
        curve.append(task.test_accuracy(best, None))  # type: ignore[arg-type]
    return curve, search_s


_TASK: Task | None = None


def _init_worker(path: str) -> None:
    global _TASK
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _TASK = make_task({"name": "nasbench201", "path": path})


def _job(job: tuple[str, Callable[[int], Searcher], int, int]) -> tuple[str, list[float], float]:
    label, make, seed, queries = job
    assert _TASK is not None
    curve, search_s = run_search(make, _TASK, seed, queries)
    return label, curve, search_s


def run_all(
    methods: dict[str, Callable[[int], Searcher]], seeds: Sequence[int], queries: int, path: str, workers: int
) -> Results:
    """Every method on every seed, in one process or a pool of ``workers``."""
    jobs = [(label, make, seed, queries) for label, make in methods.items() for seed in seeds]
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers, _init_worker, (path,)) as pool:
            done = pool.map(_job, jobs, chunksize=1)
    else:
        _init_worker(path)
        done = [_job(job) for job in jobs]
    out: Results = {label: ([], []) for label in methods}
    for label, curve, search_s in done:
        out[label][0].append(curve)
        out[label][1].append(search_s)
    return out


def table(results: Results, queries: int, baseline: str | None) -> str:
    """Markdown: test accuracy (%) mean ± std at each checkpoint, search ms per query, and the gap to ``baseline``."""
    points = [q for q in CHECKPOINTS if q <= queries] or [queries]
    head = "| method | " + " | ".join(f"test acc @ {q}" for q in points) + " | search ms / query |"
    if baseline:
        head += f" Δ vs {baseline} @ {points[len(points) // 2]} (± s.e.) |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    mid = points[len(points) // 2]
    for label, (curves, secs) in results.items():
        cells = []
        for q in points:
            vals = [100 * c[q - 1] for c in curves]
            cells.append(f"{statistics.mean(vals):.2f} ± {statistics.stdev(vals):.2f}")
        ms = 1000 * statistics.mean(secs) / queries
        row = f"| {label} | " + " | ".join(cells) + f" | {ms:.3f} |"
        if baseline == label:
            row += " — |"
        elif baseline:
            a = [100 * c[mid - 1] for c in curves]
            b = [100 * c[mid - 1] for c in results[baseline][0]]
            se = math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
            row += f" {statistics.mean(a) - statistics.mean(b):+.2f} ± {se:.2f} |"
        lines.append(row)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="data/nasbench201/nb201_cifar10.csv.gz")
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--evolution", nargs="+", default=["16:8", "16:4", "10:3", "25:10"], help="population:tournament"
    )
    parser.add_argument("--workers", type=int, default=1, help="processes running seeds in parallel")
    parser.add_argument("--sweep", action="store_true", help="also sweep evolution settings on held-out seeds")
    args = parser.parse_args()
    start = time.perf_counter()
    pkgs = ", ".join(f"{p} {version(p)}" for p in ("evoforge", "optuna", "numpy", "torch"))
    print(f"<!-- {datetime.date.today()} | Python {platform.python_version()} | {pkgs} | {os.cpu_count()} CPUs -->\n")
    settings = [tuple(int(v) for v in setting.split(":")) for setting in args.evolution]
    methods = {"random": make_random, **evolutions(settings), "Optuna TPE (defaults)": TPESearcher}
    methods["Optuna TPE, multivariate=False (ablation)"] = functools.partial(TPESearcher, multivariate=False)
    results = run_all(methods, range(args.seeds), args.queries, args.path, args.workers)
    print(f"Test accuracy (%) of the best-validation architecture, mean ± std over {args.seeds} seeds:\n")
    print(table(results, args.queries, baseline="random"))
    if args.sweep:
        sweep = {"random": make_random, **evolutions([(p, s) for p in (10, 16, 25, 50) for s in (2, 3, 5, 10)])}
        seeds = range(SWEEP_SEED_OFFSET, SWEEP_SEED_OFFSET + args.seeds)
        print(f"\nEvolution sweep on held-out seeds {seeds.start}..{seeds.stop - 1} (random run on the same seeds):\n")
        print(table(run_all(sweep, seeds, args.queries, args.path, args.workers), args.queries, "random"))
    print(f"\n<!-- wall time {time.perf_counter() - start:.0f} s -->")


if __name__ == "__main__":
    main()

"""Multi-objective search on NAS-Bench-201 CIFAR-10 (tabular): evoforge's evolution vs Optuna's NSGA-II vs random.

Two objective pairs: (val_accuracy max, params min) and (val_accuracy max, latency_ms min). Every method runs
through one harness (:func:`run_search`) on the same 6-edge categorical space (5 ops per edge). Query ``n`` of
search seed ``s`` is evaluated with ``trial_seed(s, n)``, as an evoforge study would, and returns the 200-epoch
validation accuracy of ONE training seed picked at random (noisy), plus the architecture's params and latency.

After each checkpoint (``--queries``, default 100 and 300) two hypervolumes of the set of evaluated architectures
are recorded: "observed", from the noisy accuracies the search saw, and "true", from each architecture's mean
200-epoch TEST accuracy, which the search never sees. The reference point is accuracy 0 and the largest params
(resp. latency) in the whole table, so every architecture lies inside it; hypervolumes are reported normalized by
the box from that reference to (accuracy 1, 0), so they lie in [0, 1]. Prints a Markdown table per objective pair
of mean ± std over seeds, the ratio of each method's mean true hypervolume to NSGA-II's, the mean paired difference,
the seeds on which it beats NSGA-II (paired by seed), and its search time per query (ask + tell only, measured in
the worker process).

Run from the repository root::

    python benchmarks/nasbench201_multiobjective.py --seeds 30 --workers 2

``--population`` and ``--tournament`` take several values: every valid pair becomes one evolution row (a sweep);
``--seed-offset`` runs on other seeds, so a setting picked by a sweep can be checked on seeds it was not fitted to.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import itertools
import math
import multiprocessing
import os
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from typing import Protocol

import optuna

from evoforge.design import Design
from evoforge.goal import Goal, goal_from_dict
from evoforge.pareto import hypervolume
from evoforge.proposers import EvolutionProposer, Proposer, RandomProposer
from evoforge.spaces import NB201_OPS, NB201Space, arch_string
from evoforge.study._loop import trial_seed
from evoforge.tasks import EvalSettings, make_task
from evoforge.tasks._nasbench201 import NB201Row, NB201Task

PAIRS = {
    "params": {"val_accuracy": "max", "params": "min"},
    "latency_ms": {"val_accuracy": "max", "latency_ms": "min"},
}
NSGA2 = "Optuna NSGA-II (defaults)"
Metrics = dict[str, float]
# One search: per checkpoint (true HV, observed HV, cumulative ask+tell seconds), all HVs normalized.
Record = list[tuple[float, float, float]]


def make_goal(pair: str, seed: int, population: int = 16, tournament: int | None = None) -> Goal:
    return goal_from_dict(
        {
            "study": f"nb201-{pair}-{seed}",
            "task": {"name": "nasbench201", "path": "unused"},
            "objectives": PAIRS[pair],
            "budget": {"trials": 1},
            "search": {"proposer": "evolution", "population": population, "tournament": tournament, "seed": seed},
        }
    )


class Searcher(Protocol):
    """The ask/tell adapter every method is wrapped in; ``tell`` gets the query's raw metrics."""

    def ask(self, number: int) -> Design: ...

    def tell(self, number: int, design: Design, metrics: Metrics) -> None: ...


class ProposerSearcher:
    """Wraps an evoforge proposer; the goal turns metrics into its objective values (higher is better)."""

    def __init__(self, proposer: Proposer, goal: Goal) -> None:
        self.proposer, self.goal = proposer, goal

    def ask(self, number: int) -> Design:
        return self.proposer.ask(number).design

    def tell(self, number: int, design: Design, metrics: Metrics) -> None:
        self.proposer.tell(number, design, self.goal.values(metrics))


class NSGA2Searcher:
    """Optuna's NSGAIISampler (defaults) over six categorical parameters ``edge0..edge5``."""

    def __init__(self, pair: str, seed: int) -> None:
        self.objectives = PAIRS[pair]
        up, down = optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE
        directions = [up if d == "max" else down for d in self.objectives.values()]
        sampler = optuna.samplers.NSGAIISampler(seed=seed)
        self.study = optuna.create_study(directions=directions, sampler=sampler)
        self.trials: dict[int, optuna.Trial] = {}

    def ask(self, number: int) -> Design:
        trial = self.trials[number] = self.study.ask()
        edges = [trial.suggest_categorical(f"edge{i}", list(NB201_OPS)) for i in range(6)]
        return Design.make("nb201", {"edges": edges})

    def tell(self, number: int, design: Design, metrics: Metrics) -> None:
        self.study.tell(self.trials.pop(number), [metrics[m] for m in self.objectives])


def make_random(pair: str, seed: int) -> Searcher:
    goal = make_goal(pair, seed)
    return ProposerSearcher(RandomProposer.from_search(goal.search, NB201Space()), goal)


def make_evolution(pair: str, seed: int, population: int, tournament: int | None) -> Searcher:
    goal = make_goal(pair, seed, population, tournament)
    return ProposerSearcher(EvolutionProposer.from_search(goal.search, NB201Space(), None), goal)


def evolution_label(population: int, tournament: int | None) -> str:
    size = tournament or max(2, population // 2)
    return f"evoforge evolution P={population} S={size}" + (" (default S)" if tournament is None else "")


class Scale:
    """Per objective pair: the reference point (oriented, higher is better) and the normalizing box's area."""

    def __init__(self, task: NB201Task, pair: str) -> None:
        self.metric = next(m for m in PAIRS[pair] if m != "val_accuracy")
        self.worst = max(_cost(row, self.metric) for row in task.table.values())
        self.reference = (0.0, -self.worst)
        self.box = 1.0 * self.worst

    def hv(self, points: list[tuple[float, float]]) -> float:
        return hypervolume(_front(points), self.reference) / self.box


def _cost(row: NB201Row, metric: str) -> float:
    """The second objective as the task reports it."""
    return row.params_m * 1e6 if metric == "params" else row.latency_s * 1000.0


def _front(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """The 2-D non-dominated points (higher is better), found by one sort: a cheap filter before ``hypervolume``."""
    out: list[tuple[float, float]] = []
    for x, y in sorted(set(points), key=lambda p: (-p[0], -p[1])):
        if not out or y > out[-1][1]:
            out.append((x, y))
    return out


def run_search(
    make: Callable[[str, int], Searcher], pair: str, task: NB201Task, seed: int, checkpoints: Sequence[int]
) -> Record:
    """One search of ``max(checkpoints)`` queries, recorded at each checkpoint."""
    searcher, settings, scale = make(pair, seed), EvalSettings(), Scale(task, pair)
    observed: list[tuple[float, float]] = []
    true: dict[str, tuple[float, float]] = {}
    record: Record = []
    search_s = 0.0
    for number in range(max(checkpoints)):
        t0 = time.perf_counter()
        design = searcher.ask(number)
        search_s += time.perf_counter() - t0
        metrics = task.evaluate(design, trial_seed(seed, number), settings).metrics
        t0 = time.perf_counter()
        searcher.tell(number, design, metrics)
        search_s += time.perf_counter() - t0
        cost = -metrics[scale.metric]
        observed.append((metrics["val_accuracy"], cost))
        true[arch_string(design.genes["edges"])] = (task.test_accuracy(design, None), cost)
        if number + 1 in checkpoints:
            record.append((scale.hv(list(true.values())), scale.hv(observed), search_s))
    return record


_TASK: NB201Task | None = None


def load_task(path: str) -> NB201Task:
    task = make_task({"name": "nasbench201", "path": path})
    assert isinstance(task, NB201Task)
    return task


def _init_worker(path: str) -> None:
    global _TASK
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    _TASK = load_task(path)


Job = tuple[str, str, Callable[[str, int], Searcher], int, tuple[int, ...]]


def _job(job: Job) -> tuple[str, str, int, Record]:
    pair, label, make, seed, checkpoints = job
    assert _TASK is not None
    return pair, label, seed, run_search(make, pair, _TASK, seed, checkpoints)


Results = dict[str, dict[str, dict[int, Record]]]  # pair -> method label -> seed -> record


def run_all(
    methods: dict[str, Callable[[str, int], Searcher]],
    pairs: Sequence[str],
    seeds: Sequence[int],
    checkpoints: tuple[int, ...],
    path: str,
    workers: int,
) -> Results:
    """Every method on every objective pair and seed, in one process or a pool of ``workers``."""
    jobs = [
        (pair, label, make, seed, checkpoints) for pair in pairs for label, make in methods.items() for seed in seeds
    ]
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers, _init_worker, (path,)) as pool:
            done = pool.map(_job, jobs, chunksize=1)
    else:
        _init_worker(path)
        done = [_job(job) for job in jobs]
    out: Results = {pair: {label: {} for label in methods} for pair in pairs}
    for pair, label, seed, record in done:
        out[pair][label][seed] = record
    return out


def _mean_std(values: list[float]) -> str:
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {std:.4f}"


def table(results: dict[str, dict[int, Record]], checkpoints: Sequence[int]) -> str:
    """Markdown: rows are method × budget; NSGA-II's row is the baseline for the ratio and the paired wins."""
    head = (
        "| method | queries | HV true | HV observed | true HV / NSGA-II's | Δ true HV vs NSGA-II (± s.e., paired) "
        "| wins vs NSGA-II, true (obs.) | search ms / query |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    base = results.get(NSGA2)
    for k, q in enumerate(checkpoints):
        for label, by_seed in results.items():
            seeds = sorted(by_seed)
            true = [by_seed[s][k][0] for s in seeds]
            obs = [by_seed[s][k][1] for s in seeds]
            ms = 1000 * statistics.mean(by_seed[s][k][2] for s in seeds) / q
            if base is None or label == NSGA2:
                ratio, delta, wins = "—", "—", "—"
            else:
                bt = [base[s][k][0] for s in seeds]
                bo = [base[s][k][1] for s in seeds]
                ratio = f"{statistics.mean(true) / statistics.mean(bt):.4f}"
                diff = [a - b for a, b in zip(true, bt, strict=True)]
                se = statistics.stdev(diff) / math.sqrt(len(diff)) if len(diff) > 1 else 0.0
                delta = f"{statistics.mean(diff):+.4f} ± {se:.4f}"
                win_t = sum(a > b for a, b in zip(true, bt, strict=True))
                win_o = sum(a > b for a, b in zip(obs, bo, strict=True))
                wins = f"{win_t}/{len(seeds)} ({win_o}/{len(seeds)})"
            lines.append(
                f"| {label} | {q} | {_mean_std(true)} | {_mean_std(obs)} | {ratio} | {delta} | {wins} | {ms:.3f} |"
            )
    return "\n".join(lines)


def best_possible(task: NB201Task, pair: str) -> float:
    """The true hypervolume of the whole table (every architecture evaluated), normalized."""
    scale = Scale(task, pair)
    return scale.hv([(row.test / 100.0, -_cost(row, scale.metric)) for row in task.table.values()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="data/nasbench201/nb201_cifar10.csv.gz")
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--seed-offset", type=int, default=0, help="run on seeds offset..offset+seeds-1")
    parser.add_argument("--queries", default="100,300", help="comma-separated checkpoints; the largest is the budget")
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS), help="second objective(s)")
    parser.add_argument("--population", type=int, nargs="+", default=[16], help="evolution population size(s)")
    parser.add_argument(
        "--tournament", type=int, nargs="+", default=None, help="tournament size(s) (default: half the population)"
    )
    parser.add_argument("--no-random", action="store_true", help="leave out the random-search row")
    parser.add_argument("--workers", type=int, default=1, help="processes running seeds in parallel")
    args = parser.parse_args()
    start = time.perf_counter()
    checkpoints = tuple(sorted({int(q) for q in args.queries.split(",")}))
    print(f"`python {' '.join(shlex.quote(a) for a in sys.argv)}`\n")
    pkgs = ", ".join(f"{p} {version(p)}" for p in ("evoforge", "optuna"))
    machine = f"{platform.platform()}, {platform.machine()}, {os.cpu_count()} CPUs"
    print(f"<!-- {datetime.date.today()} | Python {platform.python_version()} | {pkgs} | {machine} -->\n")

    methods: dict[str, Callable[[str, int], Searcher]] = {} if args.no_random else {"random": make_random}
    for p, s in itertools.product(args.population, args.tournament or [None]):
        if s is None or s <= p:
            methods[evolution_label(p, s)] = functools.partial(make_evolution, population=p, tournament=s)
    methods[NSGA2] = NSGA2Searcher
    seeds = range(args.seed_offset, args.seed_offset + args.seeds)
    results = run_all(methods, args.pairs, seeds, checkpoints, args.path, args.workers)

    task = load_task(args.path)
    for pair in args.pairs:
        scale = Scale(task, pair)
        print(f"\n### val_accuracy (max) × {pair} (min), seeds {seeds.start}..{seeds.stop - 1}\n")
        print(
            f"Hypervolume normalized by the box from the reference (accuracy 0, {pair} {scale.worst:,.6g}, the "
            f"table's largest) to (1, 0): raw HV = normalized × {scale.box:,.6g}. Mean ± std over {args.seeds} "
            f"seeds. The whole table's true HV is {best_possible(task, pair):.4f}.\n"
        )
        print(table(results[pair], checkpoints))
    print(f"\n<!-- wall time {time.perf_counter() - start:.0f} s -->")


if __name__ == "__main__":
    main()

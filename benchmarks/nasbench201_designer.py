"""evoforge's default search (the predictor-guided proposer a goal gets when it names none) vs random search, plain
regularized evolution, Optuna TPE and Optuna GP on NAS-Bench-201 CIFAR-10 (tabular); the predictor's quality; and
the effect of warm-starting from a related study.

What it measures (every search runs through one harness, ``run_search`` of ``nasbench201_search.py``):

- Main table (always, unless only ``--predictor`` / ``--transfer`` is asked for). A query returns the 200-epoch
  validation accuracy of ONE training seed picked at random (noisy); query ``n`` of search seed ``s`` uses
  evaluation seed ``eval_seed(s, n)`` for every method, so the noise is common and methods can be paired by seed.
  After each query the incumbent is the architecture with the best single validation reading so far; the figure is
  that incumbent's 200-epoch TEST accuracy (mean over training seeds, never seen by a search), in %. Table (a): mean
  ± std over seeds at 25, 50, 100, 150, 200 and 300 queries, and each method's search time per query (ask + tell
  only, ms, measured in the worker process). Table (b): evoforge's mean minus each peer's at every checkpoint from
  50 queries on, ± the standard error of the per-seed (paired) differences.
  Methods: ``random``; ``regularized evolution (REA)``, written here as in NATS-Bench's reference script (population
  P, sample S drawn with replacement, the best reading of the sample is mutated on one uniformly chosen edge to a
  different op, the oldest member dies; ``--rea P:S``, default 10:3); Optuna's TPESampler and GPSampler with their
  defaults (six categorical parameters ``edge0..edge5``); and evoforge's ``default`` profile.
- ``--predictor``: evoforge's Gaussian process against the number of training cells n (10 ... 400; ``--reps``
  repeats, repeat r drawing everything from ``random.Random(r)``). n distinct random cells (distinct functions),
  each labelled with one noisy single-seed validation reading; on 1000 other random cells: Spearman's rank
  correlation of the predicted mean with the mean validation accuracy, the same among the held-out cells in the top
  10% by mean validation accuracy, and the coverage of the 95% predictive interval (mean ± 1.96 std, observation
  noise included) of a fresh noisy reading; and the time to fit.
- ``--transfer``: per seed s, a SOURCE search (default profile, seed s + 100000, 100 queries) on a related,
  cheaper objective: the noise-free 12-epoch validation accuracy. Then the TARGET search (the main table's protocol,
  100 queries) cold, and warm: ``warm_start`` with the source's history (designs, values, proposals) before the
  first ask. Test accuracy at 10, 25, 50 and 100 queries, cold vs warm, and the paired difference ± s.e. The warm
  proposer skips its random initial phase, so the early budgets are where an effect shows.

Jobs (one per method and seed, per transfer seed and variant, per predictor size and repeat) run on a process pool
(``--workers``, one BLAS / torch thread each), the slowest first. The full run, from the repository root::

    .venv/bin/python benchmarks/nasbench201_designer.py --all --seeds 50 --queries 300 --workers 2

``--only`` runs a subset of the main table's methods (keys: random, rea, tpe, gp, evoforge), for quick checks.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import math
import multiprocessing
import os
import platform
import random
import shlex
import statistics
import sys
import time
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from importlib.metadata import version
from typing import Any

import optuna
from nasbench201_search import ProposerSearcher, Searcher, TPESearcher, run_search

from evoforge.design import Design
from evoforge.goal import Search
from evoforge.predictors import GaussianProcess, spearman
from evoforge.profiles import load_profile, resolve
from evoforge.proposers import Proposal, Proposer, RandomProposer, Told, make_proposer
from evoforge.spaces import NB201_OPS, NB201Space
from evoforge.tasks import Task, make_task

warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

CHECKPOINTS = (25, 50, 100, 150, 200, 300)
TRANSFER_CHECKPOINTS = (10, 25, 50, 100)
TRANSFER_QUERIES = 100  # of the source search and of each target search
SOURCE_SEED_OFFSET = 100_000
PREDICTOR_SIZES = (10, 25, 50, 100, 200, 400)
HELD_OUT = 1000
EVOFORGE = "evoforge default profile"
LABELS = {
    "random": "random",
    "rea": "regularized evolution (REA)",
    "tpe": "Optuna TPE (defaults)",
    "gp": "Optuna GP (defaults)",
    "evoforge": EVOFORGE,
}
COST_RANK = {"gp": 0, "warm": 1, "evoforge": 2, "cold": 3, "tpe": 4, "predictor": 5, "rea": 6, "random": 7}
Curves = dict[int, tuple[list[float], float]]  # seed -> (test accuracy after each query, ask+tell seconds)


# -- the methods ---------------------------------------------------------------------------------------------------
class REASearcher:
    """Plain regularized evolution (Real et al. 2019) as in NATS-Bench's ``regularized_ea.py``: the first
    ``population`` queries are uniform random cells; then each query samples ``sample`` members of the population
    uniformly (with replacement), mutates the one with the best validation reading (one uniformly chosen edge to a
    different op, chosen uniformly), adds the child and drops the oldest member. No duplicate filtering."""

    def __init__(self, seed: int, population: int = 10, sample: int = 3) -> None:
        self.rng = random.Random(f"rea:{seed}")
        self.size, self.sample = population, sample
        self.population: deque[tuple[list[str], float]] = deque()

    def ask(self, number: int) -> Design:
        if len(self.population) < self.size:
            edges = [self.rng.choice(NB201_OPS) for _ in range(6)]
        else:
            members = [self.rng.choice(self.population) for _ in range(self.sample)]
            edges = list(max(members, key=lambda m: m[1])[0])
            edge = self.rng.randrange(6)
            edges[edge] = self.rng.choice([op for op in NB201_OPS if op != edges[edge]])
        return Design.make("nb201", {"edges": edges})

    def tell(self, number: int, design: Design, score: float) -> None:
        self.population.append((list(design.view["edges"]), score))
        if len(self.population) > self.size:
            self.population.popleft()


class GPSearcher(TPESearcher):
    """Optuna's GPSampler with its defaults, over the same six categorical parameters as :class:`TPESearcher`."""

    def __init__(self, seed: int) -> None:
        sampler = optuna.samplers.GPSampler(seed=seed)
        self.study = optuna.create_study(direction="maximize", sampler=sampler)
        self.trials: dict[int, optuna.Trial] = {}


class ProposalSearcher:
    """Wraps an evoforge proposer and tells it each trial's ``Proposal`` (parents, operator, route: its credit)."""

    def __init__(self, proposer: Proposer) -> None:
        self.proposer = proposer
        self.proposals: dict[int, Proposal] = {}

    def ask(self, number: int) -> Design:
        proposal = self.proposals[number] = self.proposer.ask(number)
        return proposal.design

    def tell(self, number: int, design: Design, score: float) -> None:
        self.proposer.tell(number, design, (score,), self.proposals.pop(number))


def default_proposer(seed: int) -> Proposer:
    """The proposer a goal gets when it names none (the ``default`` profile)."""
    return make_proposer(resolve(Search(seed=seed)), NB201Space())


def make_random(seed: int) -> Searcher:
    return ProposerSearcher(RandomProposer(NB201Space(), seed))


def make_evoforge(seed: int) -> Searcher:
    return ProposalSearcher(default_proposer(seed))


def source_history(task: Task, seed: int, queries: int = TRANSFER_QUERIES) -> list[Told]:
    """The default profile's search on the related task (noise-free 12-epoch validation accuracy), as told."""
    proposer, told = default_proposer(seed), []
    for number in range(queries):
        proposal = proposer.ask(number)
        value = (task.row(proposal.design).val_12 / 100.0,)  # type: ignore[attr-defined]
        proposer.tell(number, proposal.design, value, proposal)
        told.append(Told(number, proposal.design, value, proposal))
    return told


def make_warm(seed: int) -> Searcher:
    """The default profile, warm-started from a source search on the 12-epoch objective (seed + 100000)."""
    assert _TASK is not None
    proposer = default_proposer(seed)
    proposer.warm_start([source_history(_TASK, seed + SOURCE_SEED_OFFSET)])
    return ProposalSearcher(proposer)


def methods(rea: tuple[int, int]) -> dict[str, Callable[[int], Searcher]]:
    return {
        "random": make_random,
        "rea": functools.partial(REASearcher, population=rea[0], sample=rea[1]),
        "tpe": TPESearcher,
        "gp": GPSearcher,
        "evoforge": make_evoforge,
    }


# -- the jobs (run in worker processes) ----------------------------------------------------------------------------
_TASK: Task | None = None


def _init_worker(path: str, threads: int) -> None:
    global _TASK
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    # One thread per worker: OpenBLAS's threads spin against the other worker (measured here: a 200-point fit of
    # the predictor took 9 s with the default threads on a busy 2-core machine, 20 ms with one). scipy.linalg is
    # imported first so its own OpenBLAS is loaded, and limited, too.
    import scipy.linalg  # noqa: F401
    import threadpoolctl
    import torch

    threadpoolctl.threadpool_limits(threads)
    torch.set_num_threads(threads)
    _TASK = make_task({"name": "nasbench201", "path": path})


def search_job(section: str, key: str, make: Callable[[int], Searcher], seed: int, queries: int) -> tuple[Any, ...]:
    assert _TASK is not None
    curve, search_s = run_search(make, _TASK, seed, queries)
    return section, key, seed, (curve, search_s)


def predictor_job(n: int, rep: int) -> tuple[Any, ...]:
    """Fit the predictor on ``n`` noisy readings of distinct random cells; score it on HELD_OUT other cells."""
    assert _TASK is not None
    task, space, rng = _TASK, NB201Space(), random.Random(rep)

    def distinct(count: int, taken: set[str]) -> list[Design]:
        out: list[Design] = []
        while len(out) < count:
            design = space.sample(rng)
            key = space.canonical(design)
            if key not in taken:
                taken.add(key)
                out.append(design)
        return out

    taken: set[str] = set()
    train = distinct(n, taken)
    y = [rng.choice(task.row(d).val_seeds) / 100.0 for d in train]  # type: ignore[attr-defined]
    test = distinct(HELD_OUT, taken)
    t0 = time.perf_counter()
    gp = GaussianProcess().fit([space.features(d) for d in train], y)
    fit_s = time.perf_counter() - t0
    mean, std = gp.predict([space.features(d) for d in test], noisy=True)
    truth = [task.row(d).val_mean / 100.0 for d in test]  # type: ignore[attr-defined]
    fresh = [rng.choice(task.row(d).val_seeds) / 100.0 for d in test]  # type: ignore[attr-defined]
    top = sorted(range(len(test)), key=lambda i: -truth[i])[: math.ceil(0.1 * len(test))]
    rho_all = spearman(mean.tolist(), truth)
    rho_top = spearman([float(mean[i]) for i in top], [truth[i] for i in top])
    covered = [abs(f - m) <= 1.96 * s for f, m, s in zip(fresh, mean.tolist(), std.tolist(), strict=True)]
    return "predictor", str(n), rep, (rho_all, rho_top, sum(covered) / len(covered), fit_s)


def _run(job: tuple[Callable[..., tuple[Any, ...]], tuple[Any, ...]]) -> tuple[Any, ...]:
    fn, args = job
    return fn(*args)


def run_jobs(
    jobs: list[tuple[int, Callable[..., tuple[Any, ...]], tuple[Any, ...]]], path: str, workers: int, threads: int
) -> dict[str, dict[str, dict[int, Any]]]:
    """Every job, slowest first (``chunksize=1``, so the pool stays busy to the end); results by section, key,
    seed (or repeat)."""
    ordered = [(fn, args) for _, fn, args in sorted(jobs, key=lambda j: j[0])]
    out: dict[str, dict[str, dict[int, Any]]] = {}
    start, step = time.perf_counter(), max(1, len(ordered) // 20)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)  # read by the spawned workers' numpy, and by any BLAS loaded later here
    if workers > 1:
        pool = multiprocessing.get_context("spawn").Pool(workers, _init_worker, (path, threads))
        done = pool.imap(_run, ordered, chunksize=1)
    else:
        pool = None
        _init_worker(path, threads)
        done = map(_run, ordered)
    try:
        for i, (section, key, seed, payload) in enumerate(done, 1):
            out.setdefault(section, {}).setdefault(key, {})[seed] = payload
            if i % step == 0 or i == len(ordered):
                print(f"  {i}/{len(ordered)} jobs, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    return out


# -- the tables ----------------------------------------------------------------------------------------------------
def _ms(values: Sequence[float]) -> str:
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}" if len(values) > 1 else f"{values[0]:.2f}"


def _paired(a: Curves, b: Curves, q: int) -> str:
    """Mean of a's minus b's test accuracy (%) after ``q`` queries, ± the s.e. of the per-seed differences."""
    diffs = [100 * (a[s][0][q - 1] - b[s][0][q - 1]) for s in sorted(a) if s in b]
    se = statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else float("nan")
    return f"{statistics.mean(diffs):+.2f} ± {se:.2f}"


def _at(curves: Curves, q: int) -> list[float]:
    return [100 * curves[s][0][q - 1] for s in sorted(curves)]


def main_tables(results: dict[str, Curves], queries: int) -> str:
    points = sorted({q for q in CHECKPOINTS if q <= queries} | {queries})
    head = "| method | " + " | ".join(f"@ {q}" for q in points) + " | search ms / query |"
    lines = [
        "(a) Test accuracy (%) of the incumbent, mean ± std over seeds:",
        "",
        head,
        "|---" * (len(points) + 2) + "|",
    ]
    for key, curves in results.items():
        ms = 1000 * statistics.mean(secs for _, secs in curves.values()) / queries
        cells = " | ".join(_ms(_at(curves, q)) for q in points)
        lines.append(f"| {LABELS[key]} | {cells} | {ms:.2f} |")
    late = [q for q in points if q >= 50]
    if "evoforge" in results and len(results) > 1 and late:
        lines += ["", "(b) evoforge default profile minus each peer, test accuracy (%), paired by seed (± s.e.):", ""]
        lines += ["| vs | " + " | ".join(f"Δ @ {q}" for q in late) + " |", "|---" * (len(late) + 1) + "|"]
        for key, curves in results.items():
            if key != "evoforge":
                cells = " | ".join(_paired(results["evoforge"], curves, q) for q in late)
                lines.append(f"| {LABELS[key]} | {cells} |")
    return "\n".join(lines)


def predictor_table(results: dict[str, dict[int, Any]]) -> str:
    lines = [
        "(c) Predictor quality vs training cells n (one noisy reading each), on 1000 held-out cells, mean ± std over"
        " repeats:",
        "",
        "| n | Spearman, all | Spearman, top 10% | 95% interval coverage | fit ms |",
        "|---|---|---|---|---|",
    ]
    for n in sorted(results, key=int):
        rows = [results[n][r] for r in sorted(results[n])]
        cols = [[row[j] for row in rows if row[j] is not None] for j in range(4)]
        lines.append(
            f"| {n} | {_fmt(cols[0])} | {_fmt(cols[1])} | {_fmt([100 * c for c in cols[2]], 1)}% "
            f"| {statistics.mean(cols[3]) * 1000:.0f} |"
        )
    return "\n".join(lines)


def _fmt(values: Sequence[float], digits: int = 3) -> str:
    if not values:
        return "—"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.{digits}f} ± {sd:.{digits}f}"


def transfer_table(cold: Curves, warm: Curves) -> str:
    lines = [
        "(d) Transfer: target search (200-epoch noisy protocol) cold vs warm-started from a 100-query source search on"
        " the 12-epoch objective; test accuracy (%), mean ± std over seeds, and warm minus cold paired by seed:",
        "",
        "| queries | cold | warm | warm − cold (± s.e.) | warm better / worse / equal (seeds) |",
        "|---|---|---|---|---|",
    ]
    for q in TRANSFER_CHECKPOINTS:
        a, b = _at(warm, q), _at(cold, q)
        better = sum(x > y for x, y in zip(a, b, strict=True))
        worse = sum(x < y for x, y in zip(a, b, strict=True))
        lines.append(
            f"| {q} | {_ms(b)} | {_ms(a)} | {_paired(warm, cold, q)} | {better} / {worse} / {len(a) - better - worse} |"
        )
    ms = [1000 * statistics.mean(secs for _, secs in c.values()) / TRANSFER_QUERIES for c in (cold, warm)]
    lines += [
        "",
        f"Search ms / query (target): cold {ms[0]:.2f}, warm {ms[1]:.2f} (the warm start itself not counted).",
    ]
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------------------------------
def header(args: argparse.Namespace, wall_s: float) -> str:
    pkgs = ", ".join(f"{p} {version(p)}" for p in ("evoforge", "optuna", "numpy", "torch", "scipy"))
    command = shlex.join(getattr(sys, "orig_argv", [sys.executable, *sys.argv]))
    profile, resolved = load_profile("default"), resolve(Search(seed=0))
    return "\n".join(
        [
            f"<!-- {datetime.date.today()} | Python {platform.python_version()} | {pkgs} | {os.cpu_count()} CPUs, "
            f"{args.workers} workers x {args.threads} thread(s) | command: {command} | wall time {wall_s:.0f} s -->",
            "",
            f"evoforge default profile: proposer {profile.proposer!r}, settings {profile.settings}; "
            f"resolved: population {resolved.population}, tournament {resolved.tournament}, options {resolved.options}",
            f"found_by: {profile.found_by}",
            f"Seeds {args.seed_offset}..{args.seed_offset + args.seeds - 1} (main and transfer tables); REA P:S = "
            f"{args.rea}; predictor table: {args.reps} repeats per size.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="data/nasbench201/nb201_cifar10.csv.gz")
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--seed-offset", type=int, default=0)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="processes; one job per (method, seed)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads per worker")
    parser.add_argument("--only", nargs="+", choices=list(LABELS), help="run only these methods in the main table")
    parser.add_argument("--rea", default="10:3", help="regularized evolution's population:sample size")
    parser.add_argument("--predictor", action="store_true", help="the predictor-quality table")
    parser.add_argument("--transfer", action="store_true", help="the transfer table")
    parser.add_argument("--all", action="store_true", help="the main table, --predictor and --transfer")
    parser.add_argument("--reps", type=int, default=10, help="repeats per size in the predictor table")
    args = parser.parse_args()
    start = time.perf_counter()
    rea = tuple(int(v) for v in args.rea.split(":"))
    if len(rea) != 2 or min(rea) < 1:
        parser.error("--rea: expected P:S, e.g. 10:3")
    main_table = args.all or not (args.predictor or args.transfer)
    seeds = range(args.seed_offset, args.seed_offset + args.seeds)
    jobs: list[tuple[int, Callable[..., tuple[Any, ...]], tuple[Any, ...]]] = []
    if main_table:
        for key, make in methods((rea[0], rea[1])).items():
            if not args.only or key in args.only:
                jobs += [(COST_RANK[key], search_job, ("main", key, make, s, args.queries)) for s in seeds]
    if args.all or args.transfer:
        for key, make in (("cold", make_evoforge), ("warm", make_warm)):
            jobs += [(COST_RANK[key], search_job, ("transfer", key, make, s, TRANSFER_QUERIES)) for s in seeds]
    if args.all or args.predictor:
        jobs += [(COST_RANK["predictor"], predictor_job, (n, r)) for n in PREDICTOR_SIZES for r in range(args.reps)]
    results = run_jobs(jobs, args.path, args.workers, args.threads)
    sections = []
    if main_table:
        found = results.get("main", {})
        sections.append(main_tables({k: found[k] for k in LABELS if k in found}, args.queries))
    if args.all or args.predictor:
        sections.append(predictor_table(results["predictor"]))
    if args.all or args.transfer:
        sections.append(transfer_table(results["transfer"]["cold"], results["transfer"]["warm"]))
    print(header(args, time.perf_counter() - start))
    for section in sections:
        print("\n" + section)


if __name__ == "__main__":
    main()

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from evoforge.design import Design
from evoforge.goal import Search
from evoforge.proposers import make_proposer
from evoforge.spaces import NB201Space, arch_string
from evoforge.tasks._nasbench201 import NB201Row, load_table

CHECKPOINT_SHARES = (0.1, 0.25, 0.5, 1.0)  # the incumbent is judged after these shares of the queries


@dataclass(frozen=True)
class Problem:
    """A tabular search problem for tuning search settings: what a query returns (noisy, or None when the
    design breaks the problem's limit) and the incumbent's true quality, which the search never sees."""

    name: str
    description: str
    query: Callable[[NB201Row, random.Random], float | None]
    quality: Callable[[NB201Row], float]
    feasible: Callable[[NB201Row], bool]


def _median_params(path: str) -> float:
    return statistics.median(r.params_m for r in load_table(path).values())


def _small(path: str) -> Problem:
    limit = _median_params(path)

    def query(row: NB201Row, rng: random.Random) -> float | None:
        return rng.choice(row.val_seeds) if row.params_m <= limit else None

    return Problem(
        "nb201-small",
        "NAS-Bench-201 CIFAR-10, noisy 200-epoch validation accuracy of cells with at most the median parameters",
        query,
        lambda row: row.val_mean,
        lambda row: row.params_m <= limit,
    )


PROBLEMS: dict[str, Callable[[str], Problem]] = {
    "nb201-val200": lambda path: Problem(
        "nb201-val200",
        "NAS-Bench-201 CIFAR-10, 200-epoch validation accuracy of one random training seed (noisy)",
        lambda row, rng: rng.choice(row.val_seeds),
        lambda row: row.val_mean,
        lambda row: True,
    ),
    "nb201-val12": lambda path: Problem(
        "nb201-val12",
        "NAS-Bench-201 CIFAR-10, 12-epoch validation accuracy (a short-training landscape)",
        lambda row, rng: row.val_12,
        lambda row: row.val_12,
        lambda row: True,
    ),
    "nb201-small": lambda path: _small(path),
}


@lru_cache(maxsize=16)
def _scale(path: str, name: str) -> tuple[float, float]:
    """The problem's median and best true quality over its feasible cells: a score of 0 is a median cell, 1 the
    optimum."""
    problem = PROBLEMS[name](path)
    values = [problem.quality(r) for r in load_table(path).values() if problem.feasible(r)]
    return statistics.median(values), max(values)


def run_inner(path: str, name: str, search: Search, seed: int, queries: int) -> tuple[list[float], float]:
    """One search of ``queries`` queries on problem ``name`` with the (resolved) search settings: the normalized
    score of the incumbent (best reading so far) at each checkpoint, and the search's seconds per query."""
    problem = PROBLEMS[name](path)
    table = load_table(path)
    space = NB201Space()
    proposer = make_proposer(search.model_copy(update={"seed": seed}), space)
    noise = random.Random(f"noise:{seed}")
    median, best_q = _scale(path, name)
    best_reading, incumbent, scores, spent = float("-inf"), None, [], 0.0
    marks = {max(1, round(share * queries)) for share in CHECKPOINT_SHARES}
    for number in range(queries):
        t0 = time.perf_counter()
        proposal = proposer.ask(number)
        spent += time.perf_counter() - t0
        design: Design = proposal.design
        row = table[arch_string(design.view["edges"])]
        value = problem.query(row, noise)
        t0 = time.perf_counter()
        proposer.tell(number, design, None if value is None else (value,), proposal)
        spent += time.perf_counter() - t0
        if value is not None and value > best_reading:
            best_reading, incumbent = value, row
        if number + 1 in marks:
            q = problem.quality(incumbent) if incumbent is not None else median
            scores.append((q - median) / (best_q - median))
    return scores, spent / queries


def benchmark(path: str, problems: list[str], search: Search, seeds: list[int], queries: int) -> dict[str, Any]:
    """Mean normalized incumbent score over problems, seeds and checkpoints (higher is better; 1 = the optimum
    at every checkpoint), per problem, and the search time per query."""
    per: dict[str, float] = {}
    times: list[float] = []
    for name in problems:
        runs = [run_inner(path, name, search, s, queries) for s in seeds]
        per[name] = statistics.mean(statistics.mean(scores) for scores, _ in runs)
        times += [t for _, t in runs]
    return {"score": statistics.mean(per.values()), "per_problem": per, "search_ms": 1000 * statistics.mean(times)}

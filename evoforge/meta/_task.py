from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from evoforge.design import Design
from evoforge.goal import Search
from evoforge.meta._space import ProfileSpace, settings_of
from evoforge.meta._suite import PROBLEMS, benchmark
from evoforge.tasks._base import EvalSettings, HeldOut, Task, TaskOptions, TrialResult

HELD_OUT = 1000  # the champion's "test": the same problems on inner seeds no trial used


class SearchBenchmarkOptions(TaskOptions):
    path: str = "data/nasbench201/nb201_cifar10.csv.gz"
    problems: list[str] = ["nb201-val200", "nb201-val12", "nb201-small"]
    runs: int = Field(3, ge=1, description="inner searches per problem, on the same seeds for every profile")
    queries: int = Field(100, ge=10, description="queries per inner search")
    seed_offset: int = Field(100_000, ge=0, description="inner seeds start here (benchmarks use 0..)")

    @field_validator("problems")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("name at least one problem")
        for name in v:
            if name not in PROBLEMS:
                raise ValueError(f"unknown problem {name!r} (known: {', '.join(PROBLEMS)})")
        return v


class SearchBenchmarkTask(Task):
    """Tuning the search itself: a design is a set of search settings (``ProfileSpace``) and evaluating it runs
    ``runs`` searches of ``queries`` queries on each tabular problem, all from the same inner seeds (common random
    numbers, so profiles are compared on equal luck). ``meta_score`` is the incumbent's normalized true quality
    averaged over problems, seeds and checkpoints (0 = a median design, 1 = the optimum throughout). The champion's
    "test" score repeats this on inner seeds no trial saw."""

    name = "search_benchmark"
    Options = SearchBenchmarkOptions
    metrics: frozenset[str] = frozenset({"meta_score", "search_ms_per_query"})
    curve_metrics: frozenset[str] = frozenset()

    def __init__(self, options: SearchBenchmarkOptions) -> None:
        self.options = options
        if not Path(options.path).is_file():
            raise ValueError(f"task.path: file not found: {options.path}")

    def space(self, options: dict[str, Any]) -> ProfileSpace:
        if options:
            raise ValueError(f"space.{next(iter(options))}: the search-profile space takes no options")
        return ProfileSpace()

    def fidelities(self, design: Design) -> list[int]:
        return []

    def _run(self, design: Design, first_seed: int) -> dict[str, Any]:
        o = self.options
        search = search_of(design.genes)
        seeds = [first_seed + r for r in range(o.runs)]
        return benchmark(o.path, o.problems, search, seeds, o.queries)

    def evaluate(
        self,
        design: Design,
        seed: int,
        settings: EvalSettings,
        until: int | None = None,
        checkpoint: bytes | None = None,
    ) -> TrialResult:
        result = self._run(design, self.options.seed_offset)
        metrics = {"meta_score": result["score"], "search_ms_per_query": result["search_ms"]}
        return TrialResult(metrics, info={"per_problem": result["per_problem"], "inner_seeds": self.options.runs})

    def test(self, design: Design, artifact: bytes | None) -> HeldOut:
        """``meta_score`` on inner seeds the search never used."""
        return HeldOut({"meta_score": float(self._run(design, self.options.seed_offset + HELD_OUT)["score"])})


def search_of(genes: dict[str, Any]) -> Search:
    """The ``guided`` search section a ProfileSpace design stands for."""
    settings = settings_of(genes)
    population, tournament = settings.pop("population"), settings.pop("tournament")
    return Search(proposer="guided", population=population, tournament=tournament, options=settings)

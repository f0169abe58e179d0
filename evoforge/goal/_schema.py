from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Direction = Literal["max", "min"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Constraint(_Section):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Constraint:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is larger than max")
        return self

    def violation(self, metric: str, value: float) -> str | None:
        if self.max is not None and value > self.max:
            return f"{metric} {value:,.6g} > max {self.max:,.6g}"
        if self.min is not None and value < self.min:
            return f"{metric} {value:,.6g} < min {self.min:,.6g}"
        return None


class Budget(_Section):
    trials: int = Field(ge=1, description="trials to evaluate (infeasible proposals are not counted)")
    trial_timeout_s: float = Field(600.0, gt=0)
    wall_time_s: float | None = Field(None, gt=0)


class Search(_Section):
    proposer: str = "evolution"
    population: int = Field(16, ge=2)
    tournament: int | None = Field(None, ge=1, description="tournament size (default: half the population)")
    seed: int = 0
    start_from: dict[str, Any] | str | None = Field(
        None, description="a design's genes, or the path of a JSON file holding a design"
    )

    @model_validator(mode="after")
    def _tournament(self) -> Search:
        if self.tournament is not None and self.tournament > self.population:
            raise ValueError(f"tournament ({self.tournament}) cannot exceed population ({self.population})")
        return self


class Oversight(_Section):
    promotion: Literal["auto"] = "auto"
    noise_margin: float = Field(0.0025, ge=0, description="a challenger must beat the champion by more than this")


class Evaluation(_Section):
    device: Literal["auto", "cpu", "cuda"] = "auto"
    latency_batch: int = Field(32, ge=1)
    latency_repeats: int = Field(10, ge=1)
    threads: int | None = Field(None, ge=1, description="torch threads per worker (default: cores / workers)")


class Goal(_Section):
    """What a person asks for: the task, what to optimize, the limits, the budget and how to search."""

    study: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    task: dict[str, Any]
    space: dict[str, Any] = {}
    objectives: dict[str, Direction]
    constraints: dict[str, Constraint] = {}
    budget: Budget
    search: Search = Search()
    oversight: Oversight = Oversight()
    evaluation: Evaluation = Evaluation()

    @field_validator("task")
    @classmethod
    def _task_named(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(v.get("name"), str):
            raise ValueError("needs a name, e.g. {name: digits}")
        return v

    @field_validator("objectives")
    @classmethod
    def _one_objective(cls, v: dict[str, Direction]) -> dict[str, Direction]:
        if len(v) != 1:
            raise ValueError(f"give exactly one objective for now, got {len(v)}")
        return v

    @property
    def objective(self) -> tuple[str, Direction]:
        return next(iter(self.objectives.items()))

    def score(self, metrics: dict[str, float]) -> float | None:
        """The objective as a number to maximize, or None when it is missing or a constraint is broken."""
        metric, direction = self.objective
        value = metrics.get(metric)
        if value is None or value != value or self.violations(metrics):
            return None
        return float(value) if direction == "max" else -float(value)

    def violations(self, metrics: dict[str, float]) -> list[str]:
        out = []
        for metric, bound in self.constraints.items():
            if metric in metrics:
                problem = bound.violation(metric, metrics[metric])
                if problem:
                    out.append(problem)
        return out

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)

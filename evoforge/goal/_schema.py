from __future__ import annotations

import json
import math
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
    """Limits a person sets. The study stops cleanly at the first cap it reaches and says which; a trial past a
    per-trial cap is stopped and recorded as failed with the cap it broke."""

    trials: int = Field(ge=1, description="trials to evaluate (infeasible proposals are not counted)")
    trial_timeout_s: float = Field(600.0, gt=0, description="per trial: wall-clock seconds")
    trial_cpu_s: float | None = Field(None, gt=0, description="per trial: CPU seconds of its worker process")
    trial_memory_mb: float | None = Field(None, gt=0, description="per trial: resident memory of its worker (MiB)")
    trial_retries: int = Field(
        1, ge=0, description="per trial: runs again after its worker died under it (killed, lost), then fails"
    )
    wall_time_s: float | None = Field(None, gt=0, description="the whole run, from its start")
    device_time_s: float | None = Field(
        None, gt=0, description="all study's trainings together: summed seconds of trials and evidence retrainings"
    )
    energy_j: float | None = Field(None, gt=0, description="all study's trainings together: summed energy_j")


class Search(_Section):
    """How to search. With no ``proposer`` and no ``profile`` a goal gets the ``default`` profile; a ``profile``
    (shipped with evoforge, or saved by ``evoforge meta``) sets the proposer and its settings, and any field given
    here overrides it. ``options`` holds a proposer's own settings (e.g. ``acquisition: ucb`` for ``guided``)."""

    profile: str | None = Field(
        None, description="a named search profile (default: 'default' unless proposer is given)"
    )
    proposer: str | None = None
    population: int | None = Field(None, ge=2)
    tournament: int | None = Field(None, ge=1, description="tournament size (default: half the population)")
    seed: int = 0
    start_from: dict[str, Any] | str | None = Field(
        None, description="a design's genes, or the path of a JSON file holding a design"
    )
    transfer_from: list[str] = Field(
        [], description="earlier studies in the same store whose predictor and operator credit warm-start this one"
    )
    options: dict[str, Any] = {}
    base_url: str | None = Field(
        None, description="proposer llm: an OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1"
    )
    model: str | None = Field(None, description="proposer llm: the model name the endpoint serves")
    api_key_env: str = Field(
        "OPENAI_API_KEY", description="proposer llm: the environment variable holding the API key (may be unset)"
    )

    @model_validator(mode="after")
    def _llm_fields(self) -> Search:
        given = [k for k in ("base_url", "model") if getattr(self, k) is not None]
        if self.proposer == "llm":
            missing = [k for k in ("base_url", "model") if k not in given]
            if missing:
                raise ValueError(f"proposer llm needs {' and '.join(missing)}")
        elif given and self.proposer is not None:
            raise ValueError(f"{given[0]} is for proposer llm, not {self.proposer}")
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {self.base_url!r}")
        return self

    @model_validator(mode="after")
    def _tournament(self) -> Search:
        if self.tournament is not None and self.population is not None and self.tournament > self.population:
            raise ValueError(f"tournament ({self.tournament}) cannot exceed population ({self.population})")
        if len(set(self.transfer_from)) != len(self.transfer_from):
            raise ValueError("transfer_from: a study is named twice")
        return self

    def proposer_options(self) -> dict[str, Any]:
        """Keyword settings for the proposer: population, tournament and its own options (after the profile is
        applied, see ``evoforge.profiles.resolve``)."""
        out: dict[str, Any] = dict(self.options)
        if self.population is not None:
            out["population"] = self.population
        if self.tournament is not None:
            out["tournament"] = self.tournament
        return out


class Schedule(_Section):
    """Multi-fidelity: whether trials may be stopped early, judged on ``metric`` at rungs of ``min_epochs * eta**k``
    epochs (``asha``), or in several such brackets (``hyperband``); ``none`` trains every trial to the end. ``name``
    may also be a scheduler of one's own (an import path ``"package.module:Class"`` or an installed entry point),
    built from ``options``."""

    name: str = "none"
    metric: str = Field(
        "val_accuracy",
        description="judged at each rung; a metric reported during training (default: val_accuracy when it is an "
        "objective, else the first objective)",
    )
    min_epochs: int = Field(1, ge=1)
    eta: int = Field(3, ge=2, description="keep the top 1/eta at each rung")
    brackets: int = Field(3, ge=1, description="hyperband only")
    options: dict[str, Any] = Field({}, description="a scheduler of one's own: its constructor's keyword arguments")

    @model_validator(mode="after")
    def _fields_fit_the_name(self) -> Schedule:
        # Judged by value, not by which fields were written, so a stored goal (every field written) reads back.
        changed = [
            k
            for k, f in type(self).model_fields.items()
            if k not in ("name", "metric") and getattr(self, k) != f.default
        ]
        if self.name == "none" and changed:
            raise ValueError(f"{changed[0]} is given, but name is none: name asha or hyperband")
        if self.name == "asha" and "brackets" in changed:
            raise ValueError("brackets is for hyperband; asha has one bracket")
        if self.name in ("asha", "hyperband") and self.options:
            raise ValueError(f"options are for a scheduler of one's own; {self.name} takes min_epochs, eta, brackets")
        return self


class AutoWhen(_Section):
    """With ``promotion: human``, promotions small enough to go through without a person: every bound given must
    hold (the number of changed genes; the challenger's params as a multiple of the champion's)."""

    max_changes: int | None = Field(None, ge=0)
    max_param_growth: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _some_bound(self) -> AutoWhen:
        if self.max_changes is None and self.max_param_growth is None:
            raise ValueError("give max_changes, max_param_growth or both")
        return self


class Attribution(_Section):
    """How a challenger's changes are credited: up to ``max_changes`` changes, each is undone one at a time and the
    variant retrained on every evidence seed; more, a Shapley estimate over ``permutations`` random orders of making
    them, each order's designs retrained on one evidence seed."""

    enabled: bool = True
    max_changes: int = Field(6, ge=1)
    permutations: int = Field(4, ge=1)


class Oversight(_Section):
    """Who promotes, and on what evidence. A challenger whose single run beats the champion by more than
    ``noise_margin`` is retrained with ``seeds`` seeds, as is the champion (same seeds, paired), and both are
    measured on the held-out test split; it is promoted only when the mean gain's ``1 - level`` confidence interval
    lies above zero, automatically (``auto``) or once a person approves (``human``, unless ``auto_when`` holds)."""

    promotion: Literal["auto", "human"] = "auto"
    auto_when: AutoWhen | None = None
    seeds: int = Field(3, ge=2, description="evidence retrainings per design, paired by seed")
    level: float = Field(0.05, gt=0, lt=0.5, description="significance level of the paired test")
    noise_margin: float = Field(0.0025, ge=0, description="a single run must beat the champion by more than this")
    attribution: Attribution = Attribution()

    @model_validator(mode="after")
    def _rules_need_a_person(self) -> Oversight:
        if self.auto_when is not None and self.promotion == "auto":
            raise ValueError("auto_when is for promotion: human (every promotion is automatic already)")
        return self


class Evaluation(_Section):
    device: Literal["auto", "cpu", "cuda"] = "auto"
    latency_batch: int = Field(32, ge=1)
    latency_repeats: int = Field(10, ge=1)
    threads: int | None = Field(None, ge=1, description="torch threads per worker (default: cores / workers)")
    gpus: float | None = Field(
        None,
        ge=0,
        description="GPUs each trial asks Ray for; a fraction packs several trials on one GPU (default: 1 with "
        "device cuda, else 0)",
    )
    target_accuracy: float | None = Field(
        None, gt=0, le=1, description="measure time_to_accuracy_s: training seconds until val_accuracy reaches this"
    )
    power_w: float | None = Field(
        None, gt=0, description="stated power for energy estimates: W per busy CPU core (10) or per GPU (300)"
    )


class Preference(_Section):
    """How the champion is picked from the Pareto front: the best ``objective`` among the points meeting ``where``
    (soft bounds: points outside them stay on the front but cannot be champion), or the highest weighted sum of
    the objectives (``weights``, with each minimized metric's sign flipped: ``{val_accuracy: 1, latency_ms: 0.01}``
    trades 1 ms of latency for 0.01 of accuracy)."""

    objective: str | None = None
    where: dict[str, Constraint] = {}
    weights: dict[str, float] = {}

    @model_validator(mode="after")
    def _one_way(self) -> Preference:
        if (self.objective is None) == (not self.weights):
            raise ValueError("give either objective (with optional where) or weights")
        if self.weights and self.where:
            raise ValueError("where goes with objective, not with weights")
        return self


class Goal(_Section):
    """What a person asks for: the task, what to optimize, the limits, the budget and how to search."""

    study: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    task: dict[str, Any]
    space: dict[str, Any] = {}
    objectives: dict[str, Direction]
    constraints: dict[str, Constraint] = {}
    preference: Preference | None = None
    reference: dict[str, float] = Field(
        {}, description="hypervolume reference point: the worst value of each objective worth counting"
    )
    budget: Budget
    search: Search = Search()
    scheduler: Schedule = Schedule()
    oversight: Oversight = Oversight()
    evaluation: Evaluation = Evaluation()

    @model_validator(mode="before")
    @classmethod
    def _rung_metric(cls, data: Any) -> Any:
        """A scheduler judges ``val_accuracy`` at its rungs unless told otherwise; a goal that does not optimize it
        is judged on its first objective instead (a stored goal names its metric, so it reads back unchanged)."""
        if not isinstance(data, dict):
            return data
        schedule, objectives = data.get("scheduler"), data.get("objectives")
        if not (isinstance(schedule, dict) and isinstance(objectives, dict) and objectives):
            return data
        if "metric" not in schedule and schedule.get("name", "none") != "none" and "val_accuracy" not in objectives:
            data = {**data, "scheduler": {**schedule, "metric": next(iter(objectives))}}
        return data

    @field_validator("task")
    @classmethod
    def _task_named(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(v.get("name"), str):
            raise ValueError("needs a name, e.g. {name: digits}")
        return v

    @field_validator("objectives")
    @classmethod
    def _some_objective(cls, v: dict[str, Direction]) -> dict[str, Direction]:
        if not v:
            raise ValueError("give at least one objective, e.g. {val_accuracy: max}")
        return v

    @model_validator(mode="after")
    def _names_objectives(self) -> Goal:
        p = self.preference
        named = {
            "reference": list(self.reference),
            "preference.objective": [p.objective] if p and p.objective else [],
            "preference.weights": list(p.weights) if p else [],
        }
        known = ", ".join(self.objectives)
        for where, names in named.items():
            for name in names:
                if name not in self.objectives:
                    raise ValueError(f"{where}: {name!r} is not an objective (objectives: {known})")
        return self

    @property
    def objective(self) -> tuple[str, Direction]:
        """The objective the champion is judged on (the preference's, else the first listed)."""
        name = (self.preference and self.preference.objective) or next(iter(self.objectives))
        if self.preference and self.preference.weights:
            return "weighted sum", "max"
        return name, self.objectives[name]

    def values(self, metrics: dict[str, float]) -> tuple[float, ...] | None:
        """The objectives as a point to maximize (minimized ones negated), or None when one is missing or not a
        finite number (a diverged loss, a target accuracy never reached), or a constraint is broken."""
        out = []
        for metric, direction in self.objectives.items():
            value = metrics.get(metric)
            if value is None or not math.isfinite(value):
                return None
            out.append(float(value) if direction == "max" else -float(value))
        return None if self.violations(metrics) else tuple(out)

    def score(self, metrics: dict[str, float]) -> float | None:
        """How good a result is as a champion, as a number to maximize; None when it cannot be champion (missing
        value, a broken constraint, or outside the preference's ``where``)."""
        point = self.values(metrics)
        if point is None:
            return None
        oriented = dict(zip(self.objectives, point, strict=True))
        p = self.preference
        if p is not None and p.weights:
            return sum(w * oriented[m] for m, w in p.weights.items())
        if p is not None and any(b.violation(m, metrics[m]) for m, b in p.where.items() if m in metrics):
            return None
        return oriented[self.objective[0]]

    def violations(self, metrics: dict[str, float]) -> list[str]:
        out = []
        for metric, bound in self.constraints.items():
            if metric in metrics:
                problem = bound.violation(metric, metrics[metric])
                if problem:
                    out.append(problem)
        return out

    def to_json(self) -> str:
        # Keys keep their order: the first objective listed is the one a champion is judged on by default.
        return json.dumps(self.model_dump(mode="json"))

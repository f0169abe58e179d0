"""``evoforge.optimize``: search a user's objective function, with everything a goal file gets (the default guided
search, early stopping through ``trial.report`` / ``should_prune``, constraints, the evidence gate on the
objective's held-out measurement, the human gate, the audit log, resume after a crash, the local pool or Ray)."""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evoforge._errors import GoalError
from evoforge.executors import Executor
from evoforge.goal import goal_from_dict
from evoforge.objective._task import IN_PROCESS, IN_PROCESS_PREFIX
from evoforge.objective._trial import Trial
from evoforge.storage import Store, TrialRecord, TrialState
from evoforge.study import run_study

DIRECTIONS = {"minimize": "min", "maximize": "max", "min": "min", "max": "max"}


@dataclass(frozen=True)
class FrozenTrial:
    """A finished trial as a script reads it: its parameters (as the objective received them), its metrics and
    ``value`` (the first objective's), its state and seed."""

    number: int
    state: str
    params: dict[str, Any]
    metrics: dict[str, float]
    value: float | None
    seed: int
    user_attrs: dict[str, Any]


@dataclass(frozen=True)
class StudyResult:
    """What ``optimize`` found. ``best_*``: the trial with the best value of the goal's objective on its own run
    (Optuna's ``best_trial``). ``champion_*``: the design promoted on evidence (retrained on the evidence seeds and
    measured on held-out data, significantly better than the champion before it), which is what evoforge vouches
    for; ``held_out`` is its objective's held-out value, the mean over its evidence retrainings."""

    study: str
    stopped_because: str
    trials: list[FrozenTrial]
    best_trial: FrozenTrial | None
    champion: FrozenTrial | None
    held_out: float | None
    storage: str

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.best_trial.params) if self.best_trial else {}

    @property
    def best_value(self) -> float | None:
        return self.best_trial.value if self.best_trial else None

    @property
    def best_metrics(self) -> dict[str, float]:
        return dict(self.best_trial.metrics) if self.best_trial else {}

    @property
    def champion_params(self) -> dict[str, Any]:
        return dict(self.champion.params) if self.champion else {}


def optimize(
    objective: Callable[[Trial], Any],
    *,
    study: str,
    storage: str | Store | None = None,
    objectives: str | Sequence[str] | Mapping[str, str] | None = None,
    trials: int,
    seed: int = 0,
    workers: int = 1,
    goal: Mapping[str, Any] | None = None,
    executor: str | Executor = "local",
    address: str | None = None,
    quiet: bool = True,
    standby: bool = False,
) -> StudyResult:
    """Search ``objective`` for ``trials`` trials in study ``study`` and return what was found.

    ``objective(trial)`` asks for its parameters with ``trial.suggest_*``, trains with ``trial.seed``, measures on
    its validation data (on its held-out data when ``trial.split == "test"``: the evidence gate's retrainings) and
    returns a number, a dict of metrics (a list of per-input values counts as their mean, and lets the gate compare
    designs input by input), or one number per objective. ``objectives``: ``"minimize"`` (the default, as in Optuna),
    ``"maximize"``, a list of those (one per returned number: ``value_0``, ``value_1``, ...), or a dict of metric
    names to ``min`` / ``max``. ``storage``: a SQLAlchemy URL or a ``Store`` (default ``sqlite:///evoforge.db``);
    running again with the same study resumes it. ``workers``: local worker processes (0: in this process);
    ``executor="ray"`` runs trials on Ray (``address``: the cluster). ``goal``: any other goal section (``scheduler``,
    ``constraints``, ``oversight``, ``budget``, ``search``, ``evaluation``, ...), merged over the goal this builds.
    With workers, ``objective`` must be importable: defined at the top level of a module or of the running script.
    """
    names = _objectives(objectives)
    storage = storage if storage is not None else "sqlite:///evoforge.db"
    reference = _reference(objective, workers, executor)
    built: dict[str, Any] = {
        "study": study,
        "task": {"name": "python", "objective": reference},
        "objectives": names,
        "budget": {"trials": trials},
        "search": {"seed": seed},
    }
    merged = _merge(built, dict(goal or {}))
    report = run_study(
        goal_from_dict(merged), storage, workers, quiet=quiet, executor=executor, address=address, standby=standby
    )
    return load_result(storage if isinstance(storage, Store) else Store(storage), study, report.stopped_because)


def load_result(store: Store, study: str, stopped_because: str = "") -> StudyResult:
    """The result of study ``study`` as the store holds it (also for a study run from a goal file)."""
    from evoforge.goal import goal_from_json

    record = store.get_study(study)
    if record is None:
        raise GoalError(f"study {study!r} is not in {store.url}")
    goal = goal_from_json(record.goal_json)
    frozen = {t.number: _frozen(t, goal.objective[0]) for t in store.trials(record.id)}
    scored = [(goal.score(t.metrics), n) for n, t in frozen.items() if t.state == TrialState.COMPLETE]
    ranked = sorted((s, n) for s, n in scored if s is not None)
    gens = store.generations(record.id)
    return StudyResult(
        study,
        stopped_because,
        list(frozen.values()),
        frozen[ranked[-1][1]] if ranked else None,
        frozen.get(gens[-1].trial_number) if gens else None,
        gens[-1].held_out if gens else None,
        store.url,
    )


def _frozen(t: TrialRecord, metric: str) -> FrozenTrial:
    params = t.info.get("params", t.design.genes)
    return FrozenTrial(
        t.number,
        str(t.state),
        dict(params),
        dict(t.metrics),
        t.metrics.get(metric),
        t.seed,
        t.info.get("user_attrs", {}),
    )


def _objectives(objectives: str | Sequence[str] | Mapping[str, str] | None) -> dict[str, str]:
    """The goal's ``objectives`` from Optuna's directions or evoforge's names."""
    if objectives is None:
        return {"value": "min"}
    if isinstance(objectives, str):
        return {"value": _direction(objectives)}
    if isinstance(objectives, Mapping):
        return {str(k): _direction(v) for k, v in objectives.items()}
    return {f"value_{i}": _direction(d) for i, d in enumerate(objectives)}


def _direction(text: str) -> str:
    if text not in DIRECTIONS:
        raise GoalError(f"objectives: expected minimize or maximize (or min / max), got {text!r}")
    return DIRECTIONS[text]


def _reference(objective: Callable[[Trial], Any], workers: int, executor: str | Executor) -> str:
    """How other processes find ``objective``: ``package.module:name``, or ``path/to/script.py:name`` for a function
    of the running script; one defined where no other process can import it is found in this process only."""
    reference = _importable(objective)
    if reference is not None:
        IN_PROCESS[reference] = objective  # in this process (workers=0) the object itself, not a second import
        return reference
    qualname = getattr(objective, "__qualname__", "")
    if workers != 0 or executor != "local":
        raise GoalError(
            f"the objective {qualname or objective!r} is defined where other processes cannot import it (inside a "
            "function, a lambda, or a notebook); define it at the top level of a file, or run with workers=0"
        )
    reference = f"{IN_PROCESS_PREFIX}{(qualname or 'objective').replace('<', '').replace('>', '')}"
    IN_PROCESS[reference] = objective
    return reference


def _importable(objective: Callable[[Trial], Any]) -> str | None:
    """``package.module:name``, or ``path/to/script.py:name`` for a function of the running script; None when no
    other process could import it."""
    module_name, qualname = getattr(objective, "__module__", None), getattr(objective, "__qualname__", "")
    module = sys.modules.get(module_name or "")
    if not qualname or "<" in qualname or getattr(module, qualname.split(".")[0], None) is None:
        return None
    if module_name not in ("__main__", "__mp_main__"):
        return f"{module_name}:{qualname}"
    path = getattr(module, "__file__", None)
    return f"{Path(path).resolve()}:{qualname}" if path else None


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], dict(value))
        else:
            out[key] = copy.deepcopy(value)
    return out

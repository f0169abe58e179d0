"""The ``python`` task: a user's objective function is the task. Each trial calls it with a ``Trial`` built from the
design; the evidence gate calls it again on its evidence seeds with ``trial.split == "test"`` for the held-out
measurement. To the rest of evoforge it is a task like any other, with a space learned from the suggestions."""

from __future__ import annotations

import hashlib
import importlib.util
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from pydantic import Field, field_validator

from evoforge._errors import EvoforgeError, GoalError
from evoforge._registry import load_object
from evoforge.design import Design
from evoforge.objective._space import ParamSpace
from evoforge.objective._trial import Trial, TrialPruned
from evoforge.tasks import EvalSettings, HeldOut, RunContext, Task, TaskOptions, TrialResult

# Objectives handed to ``optimize`` that no other process can import (defined in a notebook or an interactive
# session): found here by their reference, in this process only.
IN_PROCESS: dict[str, Callable[[Trial], Any]] = {}
IN_PROCESS_PREFIX = "<in-process>:"


class PythonOptions(TaskOptions):
    objective: str = Field(
        description="the objective: 'package.module:function' or 'path/to/file.py:function' (relative to the "
        "working directory); called with a Trial, it returns a number or a dict of metrics"
    )
    metrics: list[str] = Field(
        [],
        description="what the objective's values are called (a bare number is the first, a sequence of numbers "
        "the first few); default: the goal's objectives and constrained metrics",
    )

    @field_validator("objective")
    @classmethod
    def _reference(cls, v: str) -> str:
        where, _, name = v.rpartition(":")
        if not where or not name.replace(".", "").replace("_", "").isidentifier():
            raise ValueError(f"expected 'package.module:function' or 'path/to/file.py:function', got {v!r}")
        return v


class PythonTask(Task):
    """A user's objective function, searched over the parameters it asks for."""

    name = "python"
    Options = PythonOptions
    curve_metrics: frozenset[str] = frozenset()  # what it reports is what the scheduler judges (``reports``)
    reports: ClassVar[bool] = True
    metrics_from_goal: ClassVar[bool] = True

    def __init__(self, options: PythonOptions) -> None:
        self.options = options
        self.metrics = frozenset(options.metrics or ["value"])

    def load(self) -> None:
        objective(self.options.objective)  # a missing file or function is found now, not at the first trial

    def space(self, options: dict[str, Any]) -> ParamSpace:
        if options:
            raise ValueError(f"space.{next(iter(options))}: the space of an objective is learned from what it asks")
        return ParamSpace()

    def fidelities(self, design: Design) -> list[int]:
        return []

    def evaluate(
        self,
        design: Design,
        seed: int,
        settings: EvalSettings,
        until: int | None = None,
        checkpoint: bytes | None = None,
        context: RunContext | None = None,
    ) -> TrialResult:
        number = context.number if context is not None else -1
        trial = Trial(design, number=number, seed=seed, reporter=context.report if context else None)
        started = time.perf_counter()
        try:
            returned = objective(self.options.objective)(trial)
        except Exception as exc:
            if not _pruned(exc):
                raise
            # Recorded as pruned with the last value it reported, under the name of what it reports (the first).
            step, last = trial.curve[-1] if trial.curve else (None, math.nan)
            info = {**trial.record(), "pruned_at": step}
            return TrialResult({(self.options.metrics or ["value"])[0]: last}, info=info, pruned=True)
        metrics, _ = self._metrics(returned)
        metrics.setdefault("train_time_s", time.perf_counter() - started)
        return TrialResult(metrics, info=trial.record())

    def held_out(self, design: Design, seed: int, settings: EvalSettings) -> tuple[TrialResult, HeldOut]:
        """The objective run again on ``seed`` with ``trial.split == "test"``: what it returns is its held-out
        measurement, if it read ``trial.split``; otherwise only what it measured as usual (and the evidence says so)."""
        trial = Trial(design, number=-1, seed=seed, split="test")
        metrics, samples = self._metrics(objective(self.options.objective)(trial))
        info = {**trial.record(), "split_read": trial.split_read}
        if not trial.split_read:
            return TrialResult(metrics, info=info), HeldOut({}, note="the objective never read trial.split")
        declared = {k: v for k, v in metrics.items() if k in self.metrics}  # the goal's own names, held out
        return TrialResult(metrics, info=info), HeldOut(declared, {k: v for k, v in samples.items() if k in declared})

    def _metrics(self, returned: Any) -> tuple[dict[str, float], dict[str, list[float]]]:
        """The objective's return value as named metrics (a sequence inside a dict is per-input values: the metric
        is their mean); a missing or non-finite value fails the trial with one line."""
        names = list(self.options.metrics or ["value"])
        if isinstance(returned, Mapping):
            pairs = list(returned.items())
        elif _number(returned) is not None:
            pairs = [(names[0], returned)]
        elif isinstance(returned, Sequence) and not isinstance(returned, str) and len(returned) <= len(names):
            pairs = list(zip(names, returned, strict=False))
        else:
            raise EvoforgeError(
                f"the objective returned {_short(returned)}; return a number, a dict of metrics, or one number per "
                f"objective ({', '.join(names)})"
            )
        metrics: dict[str, float] = {}
        samples: dict[str, list[float]] = {}
        for key, value in pairs:
            if not isinstance(key, str) or key.startswith("test_"):
                raise EvoforgeError(f"the objective returned a metric named {key!r}; test_* names are the gate's own")
            number = _number(value)
            if number is None:
                per_input = np.asarray(value, dtype=np.float64).ravel()
                samples[key], number = per_input.tolist(), float(per_input.mean()) if per_input.size else math.nan
            if not math.isfinite(number):
                raise EvoforgeError(f"the objective returned {key} = {number}; a metric must be a finite number")
            metrics[key] = number
        missing = [n for n in names if n not in metrics]
        if missing:
            raise EvoforgeError(f"the objective returned no {missing[0]!r} (it returned: {', '.join(metrics)})")
        return metrics, samples


def _number(value: Any) -> float | None:
    """``value`` as a float when it is one number (a Python or NumPy number, a 0-d array or tensor)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) == 0 and hasattr(value, "item"):
        return float(value.item())
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _pruned(exc: BaseException) -> bool:
    """Ours, or Optuna's ``TrialPruned`` (an Optuna objective raises that one, whatever it imported)."""
    return isinstance(exc, TrialPruned) or type(exc).__name__ == "TrialPruned"


def objective(reference: str) -> Callable[[Trial], Any]:
    """The function a reference names: the object ``optimize`` was given in this process, else one imported from
    ``path/to/file.py:name`` or ``package.module:name`` (once per process)."""
    if reference in IN_PROCESS:
        return IN_PROCESS[reference]
    if reference.startswith(IN_PROCESS_PREFIX):
        raise GoalError(
            "task.objective: this objective was defined in another process (a notebook or an interactive "
            "session); run it with workers=0, or define it in a file"
        )
    return _imported(reference)


@lru_cache(maxsize=16)
def _imported(reference: str) -> Callable[[Trial], Any]:
    where, _, name = reference.rpartition(":")
    if where.endswith(".py"):
        return _from_file(Path(where), name)
    fn = load_object(reference, "task.objective")
    if not callable(fn):
        raise GoalError(f"task.objective: {reference!r} is not a function")
    return fn  # type: ignore[no-any-return]


def _from_file(path: Path, name: str) -> Callable[[Trial], Any]:
    """``name`` from the Python file at ``path``, imported once per process under a name of its own (its
    ``if __name__ == "__main__":`` block does not run). A script that ``multiprocessing`` already imported in this
    worker (as ``__mp_main__``) is reused rather than run twice."""
    if not path.is_file():
        raise GoalError(f"task.objective: file not found: {path}")
    resolved = path.resolve()
    module = sys.modules.get("__mp_main__")
    if module is None or Path(getattr(module, "__file__", "") or "").resolve() != resolved:
        key = "evoforge_objective_" + hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
        module = sys.modules.get(key)
        if module is None:
            spec = importlib.util.spec_from_file_location(key, resolved)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[key] = module
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                del sys.modules[key]
                first = (str(exc).splitlines() or [""])[0]
                raise GoalError(f"task.objective: importing {path} failed: {type(exc).__name__}: {first}") from None
    fn = getattr(module, name, None)
    if not callable(fn):
        raise GoalError(f"task.objective: {path} has no function {name!r}")
    return fn  # type: ignore[no-any-return]

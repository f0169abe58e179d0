from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from evoforge.design import Design
from evoforge.spaces import Space


@dataclass(frozen=True)
class EvalSettings:
    """How a trial is measured: where it runs and how latency is timed (``latency_ms`` per batch)."""

    device: str = "auto"  # auto | cpu | cuda
    threads: int = 1  # torch intra-op threads on CPU
    latency_batch: int = 32
    latency_warmup: int = 3
    latency_repeats: int = 10
    power_w: float | None = None  # stated power for energy estimates (W per busy CPU core, or per GPU)
    target_accuracy: float | None = None  # for time_to_accuracy_s: training seconds until val_accuracy reaches it


@dataclass(frozen=True)
class TrialResult:
    """What one evaluation produced: metrics (validation only), trained weights if any, and context."""

    metrics: dict[str, float]
    artifact: bytes | None = None
    info: dict[str, Any] = field(default_factory=dict)
    checkpoint: bytes | None = None  # set when training stopped before its last epoch: continue from here


class TaskOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Task(ABC):
    """A problem with fixed train / validation / test splits.

    Contract: ``evaluate`` sees training and validation data only and is deterministic for a given seed;
    ``test_accuracy`` is called for a promoted champion only. ``metrics`` lists what ``evaluate`` reports.
    Implementations are constructed from their validated ``Options`` and must raise ``ValueError`` naming the
    option when their data cannot be found or read.
    """

    name: ClassVar[str]
    Options: ClassVar[type[TaskOptions]] = TaskOptions
    metrics: ClassVar[frozenset[str]]
    curve_metrics: ClassVar[frozenset[str]] = frozenset({"val_accuracy"})  # reported at every fidelity
    held_out_for: ClassVar[str] = "val_accuracy"  # the validation metric that ``test_accuracy`` measures held out
    sandboxed: ClassVar[bool] = False  # runs generated code in ``evoforge.sandbox`` (status says how isolated)

    def load(self) -> None:  # noqa: B027 - tasks with data to read override it
        """Read the task's data now (raising ``ValueError`` or ``OSError`` if it can't), not at the first trial."""

    @abstractmethod
    def space(self, options: dict[str, Any]) -> Space:
        """The search space for this task, shaped by the goal's ``space`` section."""

    @abstractmethod
    def evaluate(
        self,
        design: Design,
        seed: int,
        settings: EvalSettings,
        until: int | None = None,
        checkpoint: bytes | None = None,
    ) -> TrialResult:
        """Train (or look up) ``design`` and measure it on the validation split.

        Multi-fidelity: with ``until``, train (from ``checkpoint`` if given) only up to that epoch and return the
        result there with a ``checkpoint`` to continue from; the final epoch's result is the full measurement.
        Training in pieces must give the same result as training straight through.
        """

    def fidelities(self, design: Design) -> list[int]:
        """The epochs at which ``evaluate(until=...)`` can report a result, in order; the last is the full
        training. By default every epoch of a recipe with ``epochs``."""
        epochs = design.genes.get("recipe", {}).get("epochs")
        return list(range(1, int(epochs) + 1)) if epochs else []

    @abstractmethod
    def test_accuracy(self, design: Design, artifact: bytes | None) -> float:
        """Accuracy (a fraction) on the held-out test split of a champion, from its trained ``artifact``."""

    def test_outcomes(self, design: Design, artifact: bytes | None) -> list[bool] | None:
        """Per test input, whether the trained ``artifact`` gets it right (their mean is ``test_accuracy``), so two
        designs can be compared sample by sample; None when the task has no per-sample results (a table)."""
        return None

    def export_files(self, design: Design, artifact: bytes | None) -> dict[str, bytes]:
        """The files that are this design's product, by name, for ``evoforge export`` (a readable optimizer module,
        an evolved training file); empty when the product is a network (``model.py`` + weights) or a table entry."""
        return {}

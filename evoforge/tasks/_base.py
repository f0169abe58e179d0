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


@dataclass(frozen=True)
class TrialResult:
    """What one evaluation produced: metrics (validation only), trained weights if any, and context."""

    metrics: dict[str, float]
    artifact: bytes | None = None
    info: dict[str, Any] = field(default_factory=dict)


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

    def load(self) -> None:  # noqa: B027 - tasks with data to read override it
        """Read the task's data now (raising ``ValueError`` or ``OSError`` if it can't), not at the first trial."""

    @abstractmethod
    def space(self, options: dict[str, Any]) -> Space:
        """The search space for this task, shaped by the goal's ``space`` section."""

    @abstractmethod
    def evaluate(self, design: Design, seed: int, settings: EvalSettings) -> TrialResult:
        """Train (or look up) ``design`` and measure it on the validation split."""

    @abstractmethod
    def test_accuracy(self, design: Design, artifact: bytes | None) -> float:
        """Accuracy (a fraction) on the held-out test split of a champion, from its trained ``artifact``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
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
    pruned: bool = False  # a scheduler stopped it from inside the run (``RunContext.report``): its last result


@dataclass(frozen=True)
class RunContext:
    """What a task that runs a live trial handle (``Task.reports``) gets besides the design: the trial's number,
    and ``report(step, value)``, which records an intermediate value (in the units of the scheduler's metric) and
    answers whether the trial goes on (False: the scheduler stopped it at a rung)."""

    number: int
    report: Callable[[int, float], bool] | None = None


@dataclass(frozen=True)
class HeldOut:
    """What a trained design measures on the task's held-out split, which only the evidence gate reads.

    ``metrics`` are named as the metrics they stand for (``val_accuracy``: accuracy on the held-out split, ``val_loss``
    its loss; a metric with no held-out counterpart, such as ``params``, is left out and the gate uses the retrained
    run's own value). ``samples``: for metrics that are means over held-out inputs, the value per input in a fixed
    order (1.0 / 0.0 for accuracy), so two designs can be compared input by input (a paired bootstrap over seeds and
    inputs); leave a metric out when it is not such a mean (an R², a table entry).
    """

    metrics: dict[str, float]
    samples: Mapping[str, Sequence[float]] = field(default_factory=dict)
    note: str | None = None  # why nothing was measured on the held-out split, when nothing was


class TaskOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Task(ABC):
    """A problem with fixed train / validation / held-out splits.

    Contract: ``evaluate`` sees training and validation data only and is deterministic for a given seed; the
    held-out split is read only by ``held_out`` / ``test``, which the evidence gate (and ``export``) call, never the
    search. ``metrics`` lists what ``evaluate`` reports (a task may set it per instance, from its options).
    Implementations are constructed from their validated ``Options`` and must raise ``ValueError`` naming the
    option when their data cannot be found or read. A task built in one process is built again from the same options
    in each worker process, so it holds nothing that its options and data files do not determine.
    """

    name: ClassVar[str]
    Options: ClassVar[type[TaskOptions]] = TaskOptions
    metrics: frozenset[str]
    curve_metrics: frozenset[str] = frozenset({"val_accuracy"})  # reported at every fidelity
    sandboxed: ClassVar[bool] = False  # runs generated code in ``evoforge.sandbox`` (status says how isolated)
    # Reports from inside a run at steps of its own: ``evaluate`` then takes a ``context`` (``RunContext``), and a
    # scheduler judges the reported values at its rungs as they come (no pausing, no fidelities known up front).
    reports: ClassVar[bool] = False
    # The goal's objective and constraint names become the ``metrics`` option when the goal does not give it.
    metrics_from_goal: ClassVar[bool] = False

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

    def held_out(self, design: Design, seed: int, settings: EvalSettings) -> tuple[TrialResult, HeldOut]:
        """Evidence: train ``design`` in full on ``seed`` exactly as ``evaluate`` does, and measure the result on the
        held-out split too. By default ``evaluate``, then ``test`` of the weights it produced."""
        result = self.evaluate(design, seed, settings)
        return result, self.test(design, result.artifact)

    def test(self, design: Design, artifact: bytes | None) -> HeldOut:
        """The trained ``artifact`` of ``design`` measured on the held-out split. A task with no held-out split
        returns ``HeldOut({})`` (the gate then judges the retrained runs' own metrics, and says so)."""
        return HeldOut({})

    def export_files(self, design: Design, artifact: bytes | None) -> dict[str, bytes]:
        """The files that are this design's product, by name, for ``evoforge export`` (a readable optimizer module,
        an evolved training file); empty when the product is a network (``model.py`` + weights) or a table entry."""
        return {}

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evoforge.goal import Schedule


def milestones(rungs: Sequence[int], fidelities: Sequence[int]) -> list[int]:
    """Where a trial stops to report: each rung snapped up to the first epoch the task can report at, then the
    full training (the last fidelity)."""
    final = fidelities[-1]
    out = {next(f for f in fidelities if f >= r) for r in rungs if r < final}
    return sorted(out - {final}) + [final]


class Scheduler(ABC):
    """Decides whether a running trial continues past a milestone: the role between proposing and running.

    Contract: ``stops(number, fidelities)`` lists the epochs at which trial ``number`` pauses to report (the last
    is its full training); ``report(number, epoch, value)`` (value: higher is better) returns True to continue and
    False to stop the trial there. Decisions depend only on the reports made before, in order, so replaying a
    study's reports rebuilds the scheduler. A trial reported twice at one milestone (re-run after a crash) is
    judged again but recorded once.
    """

    name: str

    @classmethod
    def from_schedule(cls, schedule: Schedule) -> Scheduler:
        """Build from the goal's ``scheduler`` section; by default from its ``options`` (what a plug-in takes)."""
        return cls(**schedule.options)

    @abstractmethod
    def stops(self, number: int, fidelities: Sequence[int]) -> list[int]:
        """Epochs at which trial ``number`` pauses to report, ending with its full training."""

    @abstractmethod
    def report(self, number: int, epoch: int, value: float) -> bool:
        """Record trial ``number``'s value at milestone ``epoch``; True to continue, False to stop it."""

    def rung_after(self, number: int, step: int) -> int | None:
        """For a trial that reports from inside its run (no fidelities known up front): the first step after
        ``step`` at which trial ``number`` is judged; None when it is never judged again. By default never."""
        return None


class FullScheduler(Scheduler):
    """No early stopping: every trial trains to the end."""

    name = "none"

    def stops(self, number: int, fidelities: Sequence[int]) -> list[int]:
        return [fidelities[-1]] if fidelities else []

    def report(self, number: int, epoch: int, value: float) -> bool:
        return True

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from evoforge.schedulers._base import Scheduler, milestones

if TYPE_CHECKING:
    from evoforge.goal import Schedule


class ASHAScheduler(Scheduler):
    """Asynchronous successive halving (Li et al., 2020), in its stopping form (as Ray Tune's ASHA).

    Rungs lie at ``min_epochs * eta**k`` epochs. A trial reaching a rung continues only if its value is in the top
    ``1/eta`` of all values recorded at that rung so far; otherwise it stops there. No trial waits for others, so
    workers stay busy; the first trials at a rung always continue, and the bar rises as the rung fills.
    """

    name = "asha"

    def __init__(self, min_epochs: int = 1, eta: int = 3) -> None:
        self.min_epochs, self.eta = min_epochs, eta
        self.recorded: dict[int, dict[int, float]] = {}  # rung epoch -> trial number -> value

    @classmethod
    def from_schedule(cls, schedule: Schedule) -> ASHAScheduler:
        return cls(schedule.min_epochs, schedule.eta)

    def rungs(self, final: int) -> list[int]:
        out, r = [], self.min_epochs
        while r < final:
            out.append(r)
            r *= self.eta
        return out

    def stops(self, number: int, fidelities: Sequence[int]) -> list[int]:
        return milestones(self.rungs(fidelities[-1]), fidelities) if fidelities else []

    def rung_after(self, number: int, step: int) -> int | None:
        rung = self.min_epochs
        while rung <= step:
            rung *= self.eta
        return rung

    def cutoff(self, epoch: int) -> float | None:
        values = list(self.recorded.get(epoch, {}).values())
        return float(np.percentile(values, (1 - 1 / self.eta) * 100)) if values else None

    def report(self, number: int, epoch: int, value: float) -> bool:
        self.recorded.setdefault(epoch, {}).setdefault(number, value)
        cutoff = self.cutoff(epoch)
        return cutoff is None or value >= cutoff


class HyperbandScheduler(Scheduler):
    """Asynchronous Hyperband: ``brackets`` ASHA brackets whose first rungs lie at ``min_epochs * eta**b``
    (b = 0 .. brackets-1), from aggressive early stopping to almost none. Trials are dealt to brackets in turn,
    which hedges against a first rung too early to tell good designs from bad."""

    name = "hyperband"

    def __init__(self, min_epochs: int = 1, eta: int = 3, brackets: int = 3) -> None:
        self.brackets = [ASHAScheduler(min_epochs * eta**b, eta) for b in range(brackets)]

    @classmethod
    def from_schedule(cls, schedule: Schedule) -> HyperbandScheduler:
        return cls(schedule.min_epochs, schedule.eta, schedule.brackets)

    def bracket(self, number: int) -> ASHAScheduler:
        return self.brackets[number % len(self.brackets)]

    def stops(self, number: int, fidelities: Sequence[int]) -> list[int]:
        return self.bracket(number).stops(number, fidelities)

    def report(self, number: int, epoch: int, value: float) -> bool:
        return self.bracket(number).report(number, epoch, value)

    def rung_after(self, number: int, step: int) -> int | None:
        return self.bracket(number).rung_after(number, step)

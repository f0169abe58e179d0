"""Study-wide caps a person sets: what has been spent (device seconds, energy) and which cap, if any, is reached."""

from __future__ import annotations

from dataclasses import dataclass

from evoforge.executors import Outcome
from evoforge.goal import Budget
from evoforge.storage import FINISHED_STATES, Store


@dataclass
class Spend:
    """Device seconds (time workers spent on the study's jobs: trials, resumed pieces, evidence retrainings) and
    energy (``energy_j`` of every finished training, where the task measures it)."""

    seconds: float = 0.0
    joules: float = 0.0
    last: float = 0.0  # the busy seconds of the outcome added last, recorded with it so a resumed study can sum them

    def add(self, outcome: Outcome) -> float:
        start, end = outcome.started_at, outcome.finished_at
        self.last = max(0.0, end - start) if start is not None and end is not None else 0.0
        self.seconds += self.last
        return self.last

    def add_energy(self, metrics: dict[str, float] | None) -> None:
        self.joules += float((metrics or {}).get("energy_j", 0.0))

    def as_dict(self) -> dict[str, float]:
        return {"device_s": round(self.seconds, 3), "energy_j": round(self.joules, 3)}

    @classmethod
    def of(cls, store: Store, study_id: int) -> Spend:
        """What the study spent in earlier runs, summed from its events and replicates."""
        spend = cls()
        for event in store.events(study_id):
            if event.kind in (*FINISHED_STATES, "report"):
                spend.seconds += float(event.payload.get("busy_s") or 0.0)
            if event.kind in ("complete", "pruned"):
                spend.add_energy(event.payload.get("metrics"))
        for r in store.replicates(study_id):
            spend.seconds += float(r.info.get("busy_s") or 0.0)
            spend.add_energy(r.metrics)
        return spend


def cap_reached(budget: Budget, elapsed_s: float, spend: Spend) -> str | None:
    """Which study-wide cap stops the run now, in words; None while every cap holds. The trial count is checked
    where trials are proposed."""
    if budget.wall_time_s is not None and elapsed_s >= budget.wall_time_s:
        return f"wall-time cap of {budget.wall_time_s:g} s reached ({elapsed_s:.1f} s since this run started)"
    if budget.device_time_s is not None and spend.seconds >= budget.device_time_s:
        return f"device-time cap of {budget.device_time_s:g} s reached ({spend.seconds:.1f} s of trainings so far)"
    if budget.energy_j is not None and spend.joules >= budget.energy_j:
        return f"energy cap of {budget.energy_j:g} J reached ({spend.joules:.1f} J so far)"
    return None

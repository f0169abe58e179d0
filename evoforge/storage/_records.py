from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from evoforge.design import Design


def held_out_name(metric: str) -> str:
    """The name under which a metric measured on the held-out split is kept: ``val_accuracy`` -> ``test_accuracy``,
    ``val_loss`` -> ``test_loss``, a user's ``mse`` -> ``test_mse``."""
    return "test_" + metric.removeprefix("val_")


class State(str, Enum):
    """A state stored as its value: compares equal to that string, prints and serializes as it."""

    def __str__(self) -> str:
        return str(self.value)


class TrialState(State):
    WAITING = "waiting"  # proposed, or given back (its worker died, its coordinator stopped): runs when a worker frees
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    PRUNED = "pruned"  # stopped early by the scheduler, with its last result
    INFEASIBLE = "infeasible"  # broke a constraint known before training: never trained, not charged
    DUPLICATE = "duplicate"  # computes what an earlier trial computes: never trained, not charged

    @property
    def finished(self) -> bool:
        return self not in (TrialState.WAITING, TrialState.RUNNING)

    @property
    def charged(self) -> bool:
        """Whether it counts against the trial budget (everything but proposals never trained)."""
        return self not in (TrialState.INFEASIBLE, TrialState.DUPLICATE)


TRIAL_STATES = tuple(s.value for s in TrialState)
FINISHED_STATES = tuple(s.value for s in TrialState if s.finished)
UNCHARGED_STATES = tuple(s.value for s in TrialState if not s.charged)


@dataclass(frozen=True)
class StudyRecord:
    id: int
    name: str
    goal_json: str
    created_at: float


@dataclass(frozen=True)
class TrialRecord:
    """One trial as stored: what was proposed, by whom and why, and what came of it."""

    id: int
    number: int
    state: TrialState
    design: Design
    proposer: str
    operator: str | None
    rationale: str
    seed: int
    parents: tuple[int, ...] = ()  # trial numbers
    metrics: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    attempts: int = 0
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None


@dataclass(frozen=True)
class GenerationRecord:
    number: int
    trial_number: int
    design: Design
    score: float
    held_out: float | None  # the mean over its evidence retrainings of the judged metric on the held-out split
    reason: str
    created_at: float


@dataclass(frozen=True)
class NewGeneration:
    """A promotion to record together with the trial that earned it."""

    number: int
    score: float
    held_out: float | None
    reason: str


@dataclass(frozen=True)
class EventRecord:
    id: int
    ts: float
    kind: str
    trial_number: int | None
    payload: dict[str, Any]


class PromotionState(State):
    GATHERING = "gathering"  # evidence being measured
    PENDING = "pending"  # the evidence passed; a person decides
    PROMOTED = "promoted"  # the evidence passed; promoted automatically
    APPROVED = "approved"  # a person approved it
    REJECTED = "rejected"  # a person rejected it
    DECLINED = "declined"  # the evidence showed no significant gain

    @property
    def open(self) -> bool:
        """Not decided yet: evidence still coming, or waiting for a person."""
        return self in (PromotionState.GATHERING, PromotionState.PENDING)


PROMOTION_STATES = tuple(s.value for s in PromotionState)
OPEN_PROMOTION_STATES = tuple(s.value for s in PromotionState if s.open)


@dataclass(frozen=True)
class PromotionRecord:
    """A challenger's case for replacing the champion (or founding the first generation): the evidence gathered for
    it, what each of its changes contributed, and the decision. ``state``: ``gathering`` (evidence being measured),
    ``pending`` (evidence passed, waiting for a person), ``promoted`` (passed, promoted automatically),
    ``approved`` / ``rejected`` (a person decided), ``declined`` (the evidence did not show a significant gain)."""

    number: int
    trial_number: int
    champion_generation: int | None
    state: PromotionState
    route: str | None = None
    evidence: Evidence | None = None
    attribution: Attribution | None = None
    decided_by: str | None = None
    decided_at: float | None = None
    comment: str | None = None
    created_at: float = 0.0


@dataclass(frozen=True)
class Replicate:
    """One retraining of a design on an evidence seed: its own metrics plus, named ``test_*`` (``held_out_name``),
    those it measured on the held-out split, or the error that stopped it. ``info["samples"]`` holds per held-out
    input values of the ``test_*`` metrics that are means over inputs (packed, see ``evoforge.oversight``)."""

    design_hash: str
    seed: int
    metrics: dict[str, float] | None
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    started_at: float | None = None
    finished_at: float | None = None


@dataclass(frozen=True)
class Evidence:
    """What the gate measured for a promotion case, stored as JSON (``to_dict`` / ``from_dict``).

    ``metric`` (``direction``) is the score the case is judged on (the goal's objective, or ``weighted sum``);
    ``held_out`` says in words what it was measured on. ``challenger`` / ``champion``: the score per evidence seed
    (higher is better; None: no result on that seed). ``challenger_held_out`` / ``champion_held_out``: the mean
    held-out value of ``metric`` over the retrainings, in the metric's own units. A founding case (no champion yet)
    has ``mean`` and ``ci`` of the design's own value, in the metric's own units; a comparison has ``mean_diff``
    (challenger - champion, higher is better), its ``ci`` at ``level``, ``p_value`` and ``test`` (paired t, or the
    paired bootstrap over seeds and ``test_inputs``). ``significant`` decides; ``why`` says why a case stopped
    without a comparison."""

    seeds: tuple[int, ...]
    significant: bool
    held_out: str = "test split"
    metric: str | None = None
    direction: str = "max"
    challenger: dict[str, float | None] = field(default_factory=dict)
    champion: dict[str, float | None] | None = None
    challenger_held_out: float | None = None
    champion_held_out: float | None = None
    champion_generation: int | None = None
    founding: bool = False
    mean: float | None = None
    mean_diff: float | None = None
    ci: tuple[float, float] | None = None
    n: int | None = None
    sd: float | None = None
    level: float | None = None
    test: str | None = None
    p_value: float | None = None
    test_inputs: int | None = None
    why: str | None = None
    stopped_early: bool = False

    @property
    def compared(self) -> bool:
        """Whether a paired comparison with the champion was made (else: founding, or stopped with ``why``)."""
        return self.mean_diff is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seeds": list(self.seeds), "significant": self.significant}
        for key in _EVIDENCE_FIELDS:
            value = getattr(self, key)
            if value is not None and value is not False:
                out[key] = list(value) if key == "ci" else value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        known = {k: data[k] for k in _EVIDENCE_FIELDS if k in data}
        for legacy, key in (("challenger_test", "challenger_held_out"), ("champion_test", "champion_held_out")):
            if legacy in data and key not in known:  # stores from before held-out metrics other than accuracy
                known[key] = data[legacy]
        if known.get("ci") is not None:
            known["ci"] = tuple(known["ci"])
        return cls(tuple(data.get("seeds", ())), bool(data.get("significant")), **known)


_EVIDENCE_FIELDS = tuple(k for k in Evidence.__dataclass_fields__ if k not in ("seeds", "significant"))


@dataclass(frozen=True)
class Contribution:
    """One change's contribution to the held-out score: mean over ``n`` samples with its interval."""

    n: int
    mean: float
    ci: tuple[float, float] | None
    test: str | None = None


@dataclass(frozen=True)
class ChangeEffect:
    change: str  # the change in words
    name: str  # the gene it changes
    contribution: Contribution | None  # None: not measurable alone
    effect: str  # helps | hurts | no measurable effect | not measurable alone
    flagged: bool  # no measurable gain: the simpler design leaves it out


@dataclass(frozen=True)
class Attribution:
    """What each of a challenger's changes contributed (``leave-one-out`` or ``shapley``), and the simpler design
    without the flagged ones (``simpler``: its genes; None when there is none)."""

    method: str
    seeds: tuple[int, ...]
    level: float
    changes: tuple[ChangeEffect, ...]
    simpler: dict[str, Any] | None = None
    simpler_drops: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        rows = []
        for c in self.changes:
            contribution: dict[str, Any] | None = None
            if c.contribution is not None:
                k = c.contribution
                contribution = {"n": k.n, "mean": k.mean, "ci": list(k.ci) if k.ci else None}
                if k.test is not None:
                    contribution["test"] = k.test
            rows.append(
                {
                    "change": c.change,
                    "name": c.name,
                    "contribution": contribution,
                    "effect": c.effect,
                    "flagged": c.flagged,
                }
            )
        return {
            "method": self.method,
            "seeds": list(self.seeds),
            "level": self.level,
            "changes": rows,
            "simpler": self.simpler,
            "simpler_drops": list(self.simpler_drops),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attribution:
        rows = []
        for r in data["changes"]:
            c = r.get("contribution")
            contribution = (
                Contribution(int(c["n"]), float(c["mean"]), tuple(c["ci"]) if c.get("ci") else None, c.get("test"))
                if c
                else None
            )
            rows.append(ChangeEffect(r["change"], r.get("name", r["change"]), contribution, r["effect"], r["flagged"]))
        return cls(
            data["method"],
            tuple(data["seeds"]),
            float(data.get("level", 0.05)),
            tuple(rows),
            data.get("simpler"),
            tuple(data.get("simpler_drops", ())),
        )

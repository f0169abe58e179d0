from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evoforge.design import Design

TRIAL_STATES = ("waiting", "running", "complete", "failed", "pruned", "infeasible", "duplicate")
FINISHED_STATES = ("complete", "failed", "pruned", "infeasible", "duplicate")
UNCHARGED_STATES = ("infeasible", "duplicate")  # recorded, never trained, not counted against the trial budget


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
    state: str
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
    test_accuracy: float | None
    reason: str
    created_at: float


@dataclass(frozen=True)
class NewGeneration:
    """A promotion to record together with the trial that earned it."""

    number: int
    score: float
    test_accuracy: float | None
    reason: str


@dataclass(frozen=True)
class EventRecord:
    id: int
    ts: float
    kind: str
    trial_number: int | None
    payload: dict[str, Any]


PROMOTION_STATES = ("gathering", "pending", "promoted", "approved", "rejected", "declined")
OPEN_PROMOTION_STATES = ("gathering", "pending")  # not decided yet: evidence still coming, or waiting for a person


@dataclass(frozen=True)
class PromotionRecord:
    """A challenger's case for replacing the champion (or founding the first generation): the evidence gathered for
    it, what each of its changes contributed, and the decision. ``state``: ``gathering`` (evidence being measured),
    ``pending`` (evidence passed, waiting for a person), ``promoted`` (passed, promoted automatically),
    ``approved`` / ``rejected`` (a person decided), ``declined`` (the evidence did not show a significant gain)."""

    number: int
    trial_number: int
    champion_generation: int | None
    state: str
    route: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    attribution: dict[str, Any] = field(default_factory=dict)
    decided_by: str | None = None
    decided_at: float | None = None
    comment: str | None = None
    created_at: float = 0.0


@dataclass(frozen=True)
class Replicate:
    """One retraining of a design on an evidence seed: validation metrics plus ``test_accuracy`` on the held-out
    split, or the error that stopped it."""

    design_hash: str
    seed: int
    metrics: dict[str, float] | None
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    started_at: float | None = None
    finished_at: float | None = None

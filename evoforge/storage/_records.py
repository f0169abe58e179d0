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

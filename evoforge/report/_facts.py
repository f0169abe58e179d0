"""What a report shows, read once from the store, plus the number and time formats every part of it shares."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from evoforge.goal import Goal, goal_from_json
from evoforge.oversight import ChainStatus, verify_chain
from evoforge.storage import GenerationRecord, PromotionRecord, Store, StudyRecord, TrialRecord
from evoforge.study import lineage_view, status_view
from evoforge.study._review import review_view


@dataclass(frozen=True)
class Facts:
    study: StudyRecord
    goal: Goal
    trials: list[TrialRecord]
    generations: list[GenerationRecord]
    lineage: dict[str, Any]  # lineage_view: generations with their changes and ancestry, the front
    status: dict[str, Any]  # status_view: trial counts, budget, champion
    promotions: list[PromotionRecord]
    cases: list[dict[str, Any]]  # review_view(every=True): every promotion case with diff, evidence, attribution
    chain: ChainStatus
    generated_at: float  # unix seconds

    def shown(self, score: float) -> float:
        """A score as a person reads it: minimized objectives are stored negated (higher is better)."""
        return -score if self.goal.objective[1] == "min" else score

    def score(self, trial: TrialRecord) -> float | None:
        return self.goal.score(trial.metrics) if trial.state == "complete" else None

    @property
    def objective_label(self) -> str:
        name, direction = self.goal.objective
        return f"{name} ({'lower' if direction == 'min' else 'higher'} is better)"


def gather(store: Store, study: StudyRecord) -> Facts:
    return Facts(
        study=study,
        goal=goal_from_json(study.goal_json),
        trials=store.trials(study.id),
        generations=store.generations(study.id),
        lineage=lineage_view(store, study),
        status=status_view(store, study),
        promotions=store.promotions(study.id),
        cases=review_view(store, study, every=True),
        chain=verify_chain(store, study),
        generated_at=time.time(),
    )


def num(value: Any, signed: bool = False) -> str:
    """4 decimals for fractions and small numbers, thousands separators for counts; "-" for nothing."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1000:
        return f"{value:+,.0f}" if signed else f"{value:,.0f}"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def interval(ci: Any, signed: bool = False) -> str:
    return f"[{num(ci[0], signed)}, {num(ci[1], signed)}]" if ci else "-"


def when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ts)) if ts is not None else "-"

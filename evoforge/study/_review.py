"""People deciding promotions: what is pending, with its evidence and diff, and the final word on each."""

from __future__ import annotations

from typing import Any

from evoforge._errors import StorageError
from evoforge.goal import goal_from_json
from evoforge.oversight import require_intact
from evoforge.storage import NewGeneration, PromotionRecord, Store, StudyRecord
from evoforge.study._promotion import Champion, reason_text


def review_view(store: Store, study: StudyRecord, every: bool = False) -> list[dict[str, Any]]:
    """Pending promotions (every case with ``every``): challenger, the champion it would replace, the design diff,
    the evidence, what each change contributed and, once decided, who decided, when and why."""
    trials = {t.number: t for t in store.trials(study.id, states=("complete",))}
    gens = {g.number: g for g in store.generations(study.id)}
    out = []
    for case in store.promotions(study.id):
        if not every and case.state != "pending":
            continue
        challenger = trials[case.trial_number]
        champion = gens.get(case.champion_generation) if case.champion_generation is not None else None
        out.append(
            {
                "promotion": case.number,
                "state": case.state,
                "route": case.route,
                "trial": case.trial_number,
                "design": challenger.design.hash,
                "champion": {"generation": champion.number, "trial": champion.trial_number} if champion else None,
                "diff": champion.design.diff(challenger.design) if champion else [],
                "evidence": case.evidence,
                "attribution": case.attribution,
                "decided_by": case.decided_by,
                "decided_at": case.decided_at,
                "comment": case.comment,
            }
        )
    return out


def decide(
    store: Store, study: StudyRecord, number: int, decision: str, by: str, comment: str | None = None
) -> PromotionRecord:
    """Approve (the challenger founds the next generation) or reject (the champion stays) a pending promotion.

    Refused, with nothing changed: a broken audit chain, an unknown or already decided promotion, an empty
    reviewer name, or a champion that changed since the evidence was gathered."""
    if not by or not by.strip():
        raise StorageError("--by: a decision needs the reviewer's name")
    require_intact(store, study, "nothing was decided")
    case = next((c for c in store.promotions(study.id) if c.number == number), None)
    if case is None:
        known = ", ".join(str(c.number) for c in store.promotions(study.id)) or "none"
        raise StorageError(f"promotion {number} does not exist in study {study.name!r} (promotions: {known})")
    generation = _generation(store, study, case, by.strip(), comment) if decision == "approved" else None
    store.decide_promotion(study.id, number, decision, by.strip(), comment, generation)
    return next(c for c in store.promotions(study.id) if c.number == number)


def _generation(
    store: Store, study: StudyRecord, case: PromotionRecord, by: str, comment: str | None
) -> NewGeneration | None:
    if case.state != "pending":
        return None  # decide_promotion refuses it with the case's state
    gens = store.generations(study.id)
    current = gens[-1] if gens else None
    if current is None or current.number != case.champion_generation:
        raise StorageError(
            f"promotion {case.number} was judged against generation {case.champion_generation}, but the champion is "
            f"now generation {current.number if current else None}; reject it"
        )
    goal = goal_from_json(study.goal_json)
    trial = next(t for t in store.trials(study.id, states=("complete",)) if t.number == case.trial_number)
    score = goal.score(trial.metrics)
    assert score is not None
    champion = Champion(current.number, current.trial_number, current.score, current.design)
    why = f": {comment}" if comment else ""
    assert case.evidence is not None  # a pending case passed its evidence
    reason = f"{reason_text(case.evidence, champion)}; approved by {by}{why}"
    return NewGeneration(current.number + 1, score, case.evidence.challenger_held_out, reason)

"""A study's history as a proposer sees it: finished trials in the order they were recorded, each with its values
under the study's goal and the proposal that made it. Recovery, transfer and the views all replay it."""

from __future__ import annotations

from typing import Any

from evoforge._errors import GoalError
from evoforge.goal import Goal, goal_from_json
from evoforge.proposers import Proposal, Proposer, Told
from evoforge.storage import Store, StudyRecord, TrialRecord


def proposal_infos(store: Store, study_id: int) -> dict[int, dict[str, Any]]:
    """What the proposer noted about each proposal (prediction, route), by trial number."""
    return {
        int(e.trial_number): e.payload.get("info", {})
        for e in store.events(study_id, "proposed")
        if e.trial_number is not None
    }


def proposal_of(trial: TrialRecord, info: dict[str, Any] | None) -> Proposal:
    return Proposal(trial.design, trial.parents, trial.operator, trial.rationale, dict(info or {}))


def history(store: Store, study: StudyRecord, goal: Goal | None = None) -> list[Told]:
    """Every finished trial in the order it was recorded, with its objective values (None when it failed, was
    stopped, broke a constraint or was never trained)."""
    goal = goal or goal_from_json(study.goal_json)
    trials = {t.number: t for t in store.trials(study.id)}
    infos = proposal_infos(store, study.id)
    out = []
    for number in store.finish_order(study.id):
        t = trials[number]
        values = goal.values(t.metrics) if t.state == "complete" else None
        out.append(Told(number, t.design, values, proposal_of(t, infos.get(number))))
    return out


def replay(proposer: Proposer, told: list[Told]) -> None:
    for t in told:
        proposer.tell(t.number, t.design, t.values, t.proposal)


def transfer_sources(store: Store, study_name: str, goal: Goal, space_name: str) -> list[list[Told]]:
    """The histories of the studies named in ``search.transfer_from``, checked: each must exist in this store,
    be another study, and search the same space."""
    out = []
    for name in goal.search.transfer_from:
        if name == study_name:
            raise GoalError(f"search.transfer_from: {name!r} is this study; name earlier studies")
        record = store.get_study(name)
        if record is None:
            known = ", ".join(s.name for s in store.studies() if s.name != study_name) or "none"
            raise GoalError(f"search.transfer_from: no study named {name!r} in this store (studies: {known})")
        told = history(store, record)
        other = next((t.design.space for t in told), None)
        if other is not None and other != space_name:
            raise GoalError(
                f"search.transfer_from: study {name!r} searched the {other} space, this one the {space_name} space"
            )
        first, direction = next(iter(goal.objectives.items()))
        theirs = goal_from_json(record.goal_json).objectives
        if theirs.get(first) != direction or next(iter(theirs)) != first:
            raise GoalError(
                f"search.transfer_from: study {name!r} optimizes {', '.join(f'{k} {v}' for k, v in theirs.items())}; "
                f"transfer needs the same first objective ({first} {direction})"
            )
        if sum(t.values is not None for t in told) < 2:
            raise GoalError(
                f"search.transfer_from: study {name!r} has fewer than 2 complete trials within its constraints "
                "to learn from"
            )
        out.append(told)
    return out

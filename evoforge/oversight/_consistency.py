"""The tables agree with the audit chain: every trial, generation, promotion case and evidence retraining stored in
a table is what its chained events say, and no row exists without its event (or the reverse). An edit made to a
table row, rather than to an event, shows up here. Reads one snapshot, given by the caller's connection."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from evoforge.storage import _schema as t

FINISH_KINDS = ("complete", "failed", "pruned", "infeasible", "duplicate")
Events = list[tuple[str, int | None, dict[str, Any]]]  # (kind, trial number, payload) in the order written


def table_problem(c: Connection, study_id: int, events: Events) -> str | None:
    """The first table row that differs from its events, in words; None when all agree."""
    checks: list[Callable[[Connection, int, Events], str | None]] = [_trials, _generations, _cases, _replicates]
    for check in checks:
        problem = check(c, study_id, events)
        if problem:
            return problem
    return None


def _trials(c: Connection, study_id: int, events: Events) -> str | None:
    proposed: dict[Any, dict[str, Any]] = {n: p for kind, n, p in events if kind == "proposed"}
    finished = {n: (kind, p) for kind, n, p in events if kind in FINISH_KINDS}
    rows = c.execute(
        select(
            t.trials.c.number, t.trials.c.state, t.trials.c.design_hash, t.trials.c.seed, t.trials.c.metrics_json
        ).where(t.trials.c.study_id == study_id)
    ).all()
    numbers: set[Any] = {r.number for r in rows}
    if numbers != set(proposed):
        extra = min(numbers ^ set(proposed))
        return f"trial {extra}: in the trials table or in the audit log, not in both (a row was added or deleted)"
    for r in rows:
        p = proposed[r.number]
        if p["design"] != r.design_hash or p.get("seed", r.seed) != r.seed:
            return (
                f"trial {r.number}: its design or seed differs from its 'proposed' event (the trials table was edited)"
            )
        if r.state not in FINISH_KINDS:
            continue
        kind, payload = finished.get(r.number, (None, {}))
        if kind != r.state:
            return f"trial {r.number}: the table says {r.state}, the audit log {kind or 'not finished'}"
        metrics = json.loads(r.metrics_json) if r.metrics_json else None
        if r.state in ("complete", "pruned") and payload.get("metrics") != metrics:
            return f"trial {r.number}: its metrics differ from its {kind!r} event (the trials table was edited)"
    return None


def _generations(c: Connection, study_id: int, events: Events) -> str | None:
    promoted: dict[int, dict[str, Any]] = {}
    for kind, n, p in events:
        if kind == "promoted":
            promoted[p["generation"]] = {**p, "trial": n}
        elif kind == "tested" and p.get("generation") in promoted:  # stores before evidence measured it later
            promoted[p["generation"]]["held_out"] = p["test_accuracy"]
    rows = c.execute(
        select(t.generations, t.trials.c.number.label("trial"))
        .join(t.trials, t.trials.c.id == t.generations.c.trial_id)
        .where(t.generations.c.study_id == study_id)
    ).all()
    if {r.number for r in rows} != set(promoted):
        return "a generation is in the generations table or in the audit log, not in both"
    for r in rows:
        p = promoted[r.number]
        held_out = p.get("held_out", p.get("test_accuracy"))  # its name in stores from before any held-out metric
        same = (p["trial"], held_out, p["reason"]) == (r.trial, r.held_out, r.reason)
        if not same or p.get("score", r.score) != r.score:
            return (
                f"generation {r.number}: the table differs from its 'promoted' event (the generations table was edited)"
            )
    return None


def _cases(c: Connection, study_id: int, events: Events) -> str | None:
    # Each case as its events say, replayed the way the store writes it: an update sets only what it carries.
    said: dict[int, dict[str, Any]] = {}
    for kind, _, p in events:
        if kind == "challenge":
            said[p["promotion"]] = {"state": "gathering", "evidence": None, "attribution": None, "by": None}
            said[p["promotion"]]["comment"] = None
        elif kind == "promotion":
            case = said.setdefault(p["promotion"], {})
            case.update({k: p[k] for k in ("evidence", "attribution") if p.get(k) is not None}, state=p["state"])
            if p["state"] == "promoted":
                case["by"] = "auto"
        elif kind in ("approved", "rejected"):
            said.setdefault(p["promotion"], {}).update(state=kind, by=p["by"], comment=p["comment"])
    rows = c.execute(select(t.promotions).where(t.promotions.c.study_id == study_id)).all()
    if {r.number for r in rows} != set(said):
        return "a promotion case is in the promotions table or in the audit log, not in both"
    for r in rows:
        table = {
            "state": r.state,
            "evidence": json.loads(r.evidence_json) if r.evidence_json else None,
            "attribution": json.loads(r.attribution_json) if r.attribution_json else None,
            "by": r.decided_by,
            "comment": r.comment,
        }
        wrong = next((key for key, value in table.items() if said[r.number].get(key) != value), None)
        if wrong == "state":
            return f"promotion {r.number}: the table says {r.state}, the audit log {said[r.number].get('state')}"
        if wrong:
            return f"promotion {r.number}: its {wrong} in the table differs from the audit log"
    return None


def _replicates(c: Connection, study_id: int, events: Events) -> str | None:
    said = {(p["design"], p["seed"]): p.get("metrics") for kind, _, p in events if kind == "replicate"}
    rows = c.execute(select(t.replicates).where(t.replicates.c.study_id == study_id)).all()
    if {(r.design_hash, r.seed) for r in rows} != set(said):
        return "an evidence retraining is in the replicates table or in the audit log, not in both"
    for r in rows:
        if said[(r.design_hash, r.seed)] != (json.loads(r.metrics_json) if r.metrics_json else None):
            return f"evidence retraining of {r.design_hash} on seed {r.seed}: its metrics differ from its event"
    return None

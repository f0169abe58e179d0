"""The tables agree with the audit chain: every trial's outcome, generation, promotion decision and evidence
retraining stored in a table is what its chained event says. An edit made to a table row, rather than to an
event, shows up here."""

from __future__ import annotations

from typing import Any

from evoforge.storage import EventRecord, Store, StudyRecord

FINISH_KINDS = ("complete", "failed", "pruned", "infeasible", "duplicate")


def table_problem(store: Store, study: StudyRecord) -> str | None:
    """The first row whose content differs from its event, in words; None when all agree."""
    events = store.events(study.id)
    return _trials(store, study, events) or _generations(store, study, events) or _cases(store, study, events)


def _last(events: list[EventRecord], kinds: tuple[str, ...]) -> dict[Any, EventRecord]:
    out: dict[Any, EventRecord] = {}
    for e in events:
        if e.kind in kinds:
            out[e.trial_number] = e
    return out


def _trials(store: Store, study: StudyRecord, events: list[EventRecord]) -> str | None:
    finished = _last(events, FINISH_KINDS)
    for t in store.trials(study.id):
        e = finished.get(t.number)
        if t.state not in FINISH_KINDS:
            continue
        if e is None or e.kind != t.state:
            return f"trial {t.number}: the table says {t.state}, the audit log does not"
        if t.state in ("complete", "pruned") and e.payload.get("metrics") != t.metrics:
            return (
                f"trial {t.number}: its metrics differ from its {e.kind!r} event {e.id} (the trials table was edited)"
            )
    return None


def _generations(store: Store, study: StudyRecord, events: list[EventRecord]) -> str | None:
    promoted = {e.payload.get("generation"): e for e in events if e.kind == "promoted"}
    for g in store.generations(study.id):
        e = promoted.get(g.number)
        if e is None or e.trial_number != g.trial_number or e.payload.get("test_accuracy") != g.test_accuracy:
            return (
                f"generation {g.number}: the table differs from its 'promoted' event (the generations table was edited)"
            )
    if len(promoted) != len(store.generations(study.id)):
        return "a generation in the audit log is missing from the generations table"
    return None


def _cases(store: Store, study: StudyRecord, events: list[EventRecord]) -> str | None:
    states: dict[int, str] = {}  # each case's state as its latest event says
    for e in events:
        if e.kind == "challenge":
            states[e.payload["promotion"]] = "gathering"
        elif e.kind == "promotion":
            states[e.payload["promotion"]] = e.payload["state"]
        elif e.kind in ("approved", "rejected"):
            states[e.payload["promotion"]] = e.kind
    for case in store.promotions(study.id):
        if states.get(case.number) != case.state:
            return f"promotion {case.number}: the table says {case.state}, the audit log {states.get(case.number)}"
    return None

"""Checking a study's audit chain: every event must carry the next sequence number, the hash of the event before
it, and a hash that matches its own contents."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from evoforge._errors import StorageError
from evoforge.oversight._consistency import table_problem
from evoforge.storage import Store, StudyRecord
from evoforge.storage import _schema as t
from evoforge.storage._chain import GENESIS, event_hash


@dataclass(frozen=True)
class ChainStatus:
    """``ok`` when every event checks out; otherwise ``problem`` names the first bad event and what is wrong."""

    study: str
    events: int
    ok: bool
    head: str  # the hash of the last event: keep it elsewhere to detect a cut-off tail later
    problem: str | None = None
    bad_event: int | None = None  # the row id of the first bad event


def verify_chain(store: Store, study: StudyRecord, head: str | None = None) -> ChainStatus:
    """Walk the study's events in the order they were written. An edited event fails its own hash; a deleted one
    leaves a gap in the sequence; an inserted or moved one is out of sequence or does not link to the event before
    it. Removing events from the end leaves a valid shorter chain: pass a ``head`` kept from earlier to catch that.
    Then the tables are checked against the chain: a row edited, added or deleted behind it. Everything is read in
    one snapshot, so a study running meanwhile is seen as it stood at one moment."""
    with store.engine.connect() as c:
        if c.dialect.name == "sqlite":
            c.exec_driver_sql("BEGIN")  # one read snapshot for every query below (WAL), instead of one per query
        rows = c.execute(select(t.events).where(t.events.c.study_id == study.id).order_by(t.events.c.id)).all()
        status = _walk(study, rows, head)
        if status.ok:
            events = [(r.kind, r.trial_number, json.loads(r.payload_json)) for r in rows]
            problem = table_problem(c, study.id, events)
            if problem:
                status = ChainStatus(study.name, len(rows), False, status.head, problem)
        c.rollback()
    return status


def require_intact(store: Store, study: StudyRecord, consequence: str = "nothing was changed") -> None:
    """Raise ``StorageError`` (one line, naming the problem and ``consequence``) unless the study's record is
    intact: called before anything is written on the strength of that record (a run, a decision, an export)."""
    status = verify_chain(store, study)
    if not status.ok:
        raise StorageError(f"study {study.name!r}: the audit record is broken: {status.problem}; {consequence}")


def _walk(study: StudyRecord, rows: Sequence[Any], head: str | None) -> ChainStatus:
    prev, hashes = GENESIS, set()
    present = {r.seq for r in rows}
    for expected, r in enumerate(rows, start=1):
        problem = _check(study.id, r, expected, prev, expected in present)
        if problem:
            trial = f", trial {r.trial_number}" if r.trial_number is not None else ""
            return ChainStatus(
                study.name, len(rows), False, prev, f"event {r.id} (#{r.seq} {r.kind}{trial}): {problem}", r.id
            )
        prev = r.hash
        hashes.add(r.hash)
    if head is not None and head not in hashes:
        return ChainStatus(study.name, len(rows), False, prev, f"the kept head {head[:12]}... is not in the chain")
    return ChainStatus(study.name, len(rows), True, prev)


def _check(study_id: int, r: Any, expected: int, prev: str, due_exists: bool) -> str | None:
    seq, prev_hash, digest = r.seq, r.prev_hash, r.hash
    if seq is None or digest is None:
        return "has no place in the chain (written around the store, not through it)"
    if seq != expected and due_exists:
        return f"out of order: sequence {seq} where {expected} was due (events swapped, moved or inserted)"
    if seq > expected:
        return f"sequence jumps from {expected - 1} to {seq}: {seq - expected} event(s) before it were deleted"
    if seq < expected:
        return f"out of order: sequence {seq} where {expected} was due (events moved or inserted)"
    if prev_hash != prev:
        return "does not link to the event before it (an event before it was replaced, inserted or moved)"
    if event_hash(study_id, seq, prev_hash, r.ts, r.kind, r.trial_number, r.payload_json) != digest:
        return "its contents were changed after it was written (hash mismatch)"
    return None

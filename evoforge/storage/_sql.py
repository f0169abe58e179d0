"""Row-level helpers shared by the store's writers; each runs inside the caller's transaction."""

from __future__ import annotations

import importlib
import json
import time
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from evoforge._errors import StorageError
from evoforge.design import Design
from evoforge.storage import _schema as t
from evoforge.storage._chain import GENESIS, event_hash
from evoforge.storage._records import NewGeneration


def insert_design(c: Connection, design: Design) -> None:
    # Designs are shared by every study in the store: insert-if-absent, safe against a concurrent insert.
    values = {"hash": design.hash, "space": design.space, "genes_json": json.dumps(design.genes, sort_keys=True)}
    if c.dialect.name in ("sqlite", "postgresql"):
        dialect = importlib.import_module(f"sqlalchemy.dialects.{c.dialect.name}")
        c.execute(dialect.insert(t.designs).values(**values).on_conflict_do_nothing(index_elements=["hash"]))
    elif c.execute(select(t.designs.c.hash).where(t.designs.c.hash == design.hash)).first() is None:
        c.execute(insert(t.designs).values(**values))


def append_event(c: Connection, study_id: int, kind: str, number: int | None, payload: dict[str, Any]) -> None:
    """Append an event to the study's audit chain, in the caller's transaction. Two writers racing for the
    same sequence number collide on the unique (study, seq) index: one fails, the chain never forks."""
    head = c.execute(
        select(t.events.c.seq, t.events.c.hash)
        .where(t.events.c.study_id == study_id, t.events.c.seq.is_not(None))
        .order_by(t.events.c.seq.desc())
        .limit(1)
    ).first()
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    ts, text = time.time(), json.dumps(payload, default=str)
    c.execute(
        insert(t.events).values(
            study_id=study_id,
            ts=ts,
            kind=kind,
            trial_number=number,
            payload_json=text,
            seq=seq,
            prev_hash=prev,
            hash=event_hash(study_id, seq, prev, ts, kind, number, text),
        )
    )


def trial_id(c: Connection, study_id: int, number: int) -> int:
    tid = c.execute(select(t.trials.c.id).where(t.trials.c.study_id == study_id, t.trials.c.number == number)).scalar()
    if tid is None:
        raise StorageError(f"trial {number} does not exist in this study")
    return int(tid)


def insert_generation(c: Connection, study_id: int, tid: int, number: int, generation: NewGeneration) -> None:
    """A new champion: trial ``number`` (row ``tid``) founds ``generation``; the ``promoted`` event records why."""
    c.execute(
        insert(t.generations).values(
            study_id=study_id,
            number=generation.number,
            trial_id=tid,
            score=generation.score,
            held_out=generation.held_out,
            reason=generation.reason,
            created_at=time.time(),
        )
    )
    payload = {
        "generation": generation.number,
        "score": generation.score,
        "held_out": generation.held_out,
        "reason": generation.reason,
    }
    append_event(c, study_id, "promoted", number, payload)

"""The store as of evoforge 0.1: every table, and the audit chain on events.

A fresh store gets all tables. A store written before migrations existed gets the tables it lacks, and if its
events predate the audit chain, the chain's columns, with the events already there chained in the order they were
written (what they said before then is trusted as it stands).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Connection, inspect, select, text, update

from evoforge.storage import _schema as t
from evoforge.storage._chain import GENESIS, event_hash

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    t.metadata.create_all(bind)
    if "seq" not in {c["name"] for c in inspect(bind).get_columns("events")}:
        _chain_events(bind)


def _chain_events(c: Connection) -> None:
    for name, kind in (("seq", "INTEGER"), ("prev_hash", "VARCHAR(64)"), ("hash", "VARCHAR(64)")):
        c.execute(text(f"ALTER TABLE events ADD COLUMN {name} {kind}"))
    heads: dict[int, tuple[int, str]] = {}
    for r in c.execute(select(t.events).order_by(t.events.c.id)).all():
        seq, prev = heads.get(r.study_id, (0, GENESIS))
        digest = event_hash(r.study_id, seq + 1, prev, r.ts, r.kind, r.trial_number, r.payload_json)
        c.execute(update(t.events).where(t.events.c.id == r.id).values(seq=seq + 1, prev_hash=prev, hash=digest))
        heads[r.study_id] = (seq + 1, digest)
    c.execute(text("CREATE UNIQUE INDEX IF NOT EXISTS ux_events_study_seq ON events (study_id, seq)"))


def downgrade() -> None:
    raise NotImplementedError("the baseline cannot be undone: it is the first schema evoforge records")

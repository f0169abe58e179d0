"""Opening a database: URL checks, SQLite settings, and the tables created on first use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from evoforge._errors import StorageError
from evoforge.storage import _schema as t
from evoforge.storage._chain import GENESIS, event_hash


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")  # readers (status, lineage) never block the running study
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def open_engine(url: str, create: bool = True) -> Engine:
    """An engine for ``url`` with its tables created; raises ``StorageError`` with one line if it can't.

    With ``create=False`` a SQLite file that does not exist yet is an error instead of a new, empty store.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"--storage: not a database URL: {url!r}") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        parent = Path(parsed.database).expanduser().resolve().parent
        if not parent.is_dir():
            raise StorageError(f"--storage: folder does not exist: {parent}")
        if not create and not Path(parsed.database).expanduser().is_file():
            raise StorageError(f"--storage: no store at {parsed.database} (run a study first)")
    try:
        engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        if create:
            t.metadata.create_all(engine)
        elif not inspect(engine).has_table("studies"):
            raise StorageError(f"--storage: {url} is not an evoforge store")
        _upgrade(engine)
    except (SQLAlchemyError, ImportError) as exc:
        raise StorageError(f"--storage: cannot open {url}: {str(exc).splitlines()[0]}") from None
    return engine


WRITE_LOCK = 0x65766F66  # 'evof': the advisory lock every PostgreSQL write transaction holds


def writer_engine(engine: Engine) -> Engine:
    """The engine the store writes through. For a SQLite file, a second engine whose transactions begin with
    ``BEGIN IMMEDIATE``: a writer takes the write lock before it reads what it will write after (the audit chain's
    head, a case's state), so two processes writing one study (a running coordinator and ``evoforge approve``) wait
    for each other instead of failing on a stale snapshot. Reads keep the plain engine and never wait."""
    if engine.dialect.name == "postgresql":
        # The same discipline on PostgreSQL: each write transaction first takes one transaction-scoped advisory
        # lock, so writers of the store run one at a time, read the chain's head and the cases' states after the
        # previous writer committed, and never race on them (a reader never waits).
        writer = create_engine(engine.url, pool_pre_ping=True)
        event.listen(writer, "begin", lambda conn: conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})"))
        return writer
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine
    writer = create_engine(engine.url)
    event.listen(writer, "connect", _immediate_pragmas)
    event.listen(writer, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return writer


def _immediate_pragmas(dbapi_conn: Any, record: Any) -> None:
    _sqlite_pragmas(dbapi_conn, record)
    dbapi_conn.isolation_level = None  # the driver's own implicit BEGIN is replaced by the "begin" listener's


def _upgrade(engine: Engine) -> None:
    """Bring a store written by an earlier evoforge up to this schema: new tables are made by ``create_all``; the
    audit chain's columns are added to ``events`` and the events already there are chained, in the order they were
    written, when the store is first opened (what they said before then is trusted as it stands)."""
    columns = {c["name"] for c in inspect(engine).get_columns("events")}
    if "seq" in columns:
        return
    t.metadata.create_all(engine)  # tables that did not exist yet (a read-only open skipped create_all)
    with engine.begin() as c:
        for name, kind in (("seq", "INTEGER"), ("prev_hash", "VARCHAR(64)"), ("hash", "VARCHAR(64)")):
            c.execute(text(f"ALTER TABLE events ADD COLUMN {name} {kind}"))
        heads: dict[int, tuple[int, str]] = {}
        for r in c.execute(select(t.events).order_by(t.events.c.id)).all():
            seq, prev = heads.get(r.study_id, (0, GENESIS))
            digest = event_hash(r.study_id, seq + 1, prev, r.ts, r.kind, r.trial_number, r.payload_json)
            c.execute(update(t.events).where(t.events.c.id == r.id).values(seq=seq + 1, prev_hash=prev, hash=digest))
            heads[r.study_id] = (seq + 1, digest)
        c.execute(text("CREATE UNIQUE INDEX IF NOT EXISTS ux_events_study_seq ON events (study_id, seq)"))

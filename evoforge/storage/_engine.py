"""Opening a database: URL checks, SQLite settings, and the tables created on first use."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from evoforge._errors import StorageError
from evoforge.storage import _schema as t


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
        _private_file(Path(parsed.database).expanduser())
    try:
        engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        if not create and not inspect(engine).has_table("studies"):
            raise StorageError(f"--storage: {url} is not an evoforge store")
        migrate(engine)
    except (SQLAlchemyError, ImportError) as exc:
        raise StorageError(f"--storage: cannot open {url}: {str(exc).splitlines()[0]}") from None
    return engine


def _private_file(path: Path) -> None:
    """Create a new SQLite store readable and writable by its owner only: it holds every prompt, reply, design and
    score of its studies. (SQLite gives its journal files the same mode.) An existing file keeps its mode."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise StorageError(f"--storage: cannot create {path}: {exc.strerror}") from None


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


MIGRATIONS = Path(__file__).with_name("migrations")


def migrate(engine: Engine) -> None:
    """Bring the store to the newest schema revision (``migrations/versions``), once, whoever opens it first: a new
    store gets every table and is stamped with the head revision; an older store runs the revisions it lacks (a store
    from before migrations existed runs them all from the baseline). Done in one writer transaction (SQLite's write
    lock, PostgreSQL's advisory lock), so processes opening a store together migrate it once."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as c:  # the usual case, without waiting for the writers' lock
        if MigrationContext.configure(c).get_current_revision() == head:
            return
    with writer_engine(engine).connect() as c, c.begin():
        if MigrationContext.configure(c).get_current_revision() == head:
            return  # another process migrated it while we waited
        config.attributes["connection"] = c
        if inspect(c).has_table("studies"):
            command.upgrade(config, "head")
        else:
            t.metadata.create_all(c)
            command.stamp(config, "head")

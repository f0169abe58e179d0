"""Opening a database: URL checks, SQLite settings, and the tables created on first use."""

from __future__ import annotations

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
    try:
        engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        if create:
            t.metadata.create_all(engine)
        elif not inspect(engine).has_table("studies"):
            raise StorageError(f"--storage: {url} is not an evoforge store")
    except (SQLAlchemyError, ImportError) as exc:
        raise StorageError(f"--storage: cannot open {url}: {str(exc).splitlines()[0]}") from None
    return engine

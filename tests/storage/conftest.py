"""The storage contract runs against every backend: a SQLite file and a real PostgreSQL server (started by
``scripts/postgres.sh``; each test gets a database of its own, dropped afterwards)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of the test server's own database; the server is started if it is not running. Without one the
    PostgreSQL cases are skipped, unless ``EVOFORGE_REQUIRE_POSTGRES`` is set (CI), where they fail."""
    try:
        import psycopg  # noqa: F401 - the driver is the ``postgres`` extra
    except ImportError:
        return _missing("the psycopg driver is not installed (pip install evoforge[postgres])")
    done = subprocess.run([str(ROOT / "scripts" / "postgres.sh"), "start"], capture_output=True, text=True)
    if done.returncode != 0:
        return _missing(f"scripts/postgres.sh could not start a server: {done.stderr.strip()[-300:]}")
    return done.stdout.strip().splitlines()[-1]


def _missing(why: str) -> str:
    if os.environ.get("EVOFORGE_REQUIRE_POSTGRES"):
        pytest.fail(f"PostgreSQL is required here: {why}")
    pytest.skip(f"PostgreSQL not available: {why}")


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
        return
    import psycopg

    server = request.getfixturevalue("postgres_server")
    admin = server.replace("postgresql+psycopg://", "postgresql://")
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

"""The storage contract runs against every backend: a SQLite file and a real PostgreSQL server (started by
``scripts/postgres.sh``; each test gets a database of its own, dropped afterwards)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
        return
    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        yield url

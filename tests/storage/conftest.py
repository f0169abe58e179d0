"""The storage contract runs against every backend: a SQLite file and a real PostgreSQL server (started by
``scripts/postgres.sh``; each test gets a database of its own, dropped afterwards)."""

from __future__ import annotations

import pytest


@pytest.fixture
def storage(backend: str) -> str:
    """Here ``storage`` is every backend (elsewhere it is a SQLite file): see ``backend`` in tests/conftest.py."""
    return backend

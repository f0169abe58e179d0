"""What the store retries (a connection it cannot make) and what it does not (a call that is wrong)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from evoforge import Store
from evoforge._errors import StorageError
from evoforge.storage import StoreUnavailable, _retry


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff pauses the store takes (really taken)."""
    taken: list[float] = []
    real = time.sleep

    def sleep(seconds: float) -> None:
        taken.append(seconds)
        real(seconds)

    monkeypatch.setattr(_retry.time, "sleep", sleep)
    return taken


def test_a_bad_retry_window_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EVOFORGE_STORE_RETRY_S", "soon")
    with pytest.raises(StorageError, match="EVOFORGE_STORE_RETRY_S: expected seconds"):
        Store(f"sqlite:///{tmp_path / 's.db'}")


def test_a_wrong_call_is_not_retried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sleeps: list[float]) -> None:
    monkeypatch.setenv("EVOFORGE_STORE_RETRY_S", "30")
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    with store.engine.begin() as c:
        c.execute(text("DROP TABLE leases"))
    with pytest.raises(OperationalError, match="no such table"):
        store.release_lease(1, "me")
    assert sleeps == []  # failed at once: nothing to wait for


def test_a_server_that_is_not_there_is_retried_then_named(tmp_path: Path, sleeps: list[float]) -> None:
    pytest.importorskip("psycopg")
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    # The same store object pointed at a PostgreSQL port nobody listens on: every connection is refused.
    from sqlalchemy import create_engine

    store.url = "postgresql+psycopg://user:secret@127.0.0.1:1/none"
    store.engine = store.writer = create_engine(store.url)
    store.retry_s = 1.0
    with pytest.raises(StoreUnavailable, match="unreachable for 1 s") as caught:
        store.studies()
    assert len(sleeps) >= 2 and sleeps[1] > sleeps[0]  # tried again, waiting longer each time
    assert sum(sleeps) == pytest.approx(1.0, abs=0.2)  # for the whole window
    assert "secret" not in str(caught.value) and "\n" not in str(caught.value)

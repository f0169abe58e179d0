from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NB201_PATH = str(ROOT / "data" / "nasbench201" / "nb201_cifar10.csv.gz")
MNIST_PATH = str(ROOT / "data" / "mnist")

# A small, fast digits recipe: one conv block, a few epochs.
SMALL_DIGITS_GENES: dict[str, Any] = {
    "arch": {
        "blocks": [{"type": "conv", "width": 16, "kernel": 3}],
        "norm": "batch",
        "activation": "relu",
        "dropout": 0.0,
        "pooling": "flatten",
        "hidden": [],
    },
    "recipe": {
        "optimizer": "adamw",
        "lr": 0.01,
        "momentum": 0.9,
        "weight_decay": 0.0,
        "schedule": "cosine",
        "batch_size": 64,
        "epochs": 4,
        "label_smoothing": 0.0,
        "augment": "none",
    },
}


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped counts as dead), read from /proc."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def nb201_goal(study: str = "nb", trials: int = 30, **extra: Any) -> dict[str, Any]:
    goal: dict[str, Any] = {
        "study": study,
        "task": {"name": "nasbench201", "path": NB201_PATH},
        "objectives": {"val_accuracy": "max"},
        "budget": {"trials": trials},
        "search": {"proposer": "evolution", "population": 8, "seed": 0},
    }
    goal.update(extra)
    return goal


def digits_goal(study: str = "digits", trials: int = 4, **extra: Any) -> dict[str, Any]:
    goal: dict[str, Any] = {
        "study": study,
        "task": {"name": "digits"},
        "space": {"epochs": [1, 4], "widths": [8, 16], "hidden_widths": [16, 32], "max_blocks": 2},
        "objectives": {"val_accuracy": "max"},
        "budget": {"trials": trials, "trial_timeout_s": 120},
        "search": {"proposer": "evolution", "population": 2, "seed": 0, "start_from": SMALL_DIGITS_GENES},
    }
    goal.update(extra)
    return goal


def strip_audit_chain(url: str) -> None:
    """Make a SQLite store look as one written before the audit chain existed (no chain columns): the next open
    upgrades it and chains the events it finds."""
    import sqlite3

    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    with con:
        con.execute("DROP TABLE IF EXISTS alembic_version")  # a store from before migrations were recorded
        con.execute("DROP INDEX ux_events_study_seq")
        for column in ("seq", "prev_hash", "hash"):
            con.execute(f"ALTER TABLE events DROP COLUMN {column}")
    con.close()


@pytest.fixture
def storage(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'study.db'}"


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


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A database of its own on the test server (its URL), dropped afterwards."""
    import psycopg

    admin = server.replace("postgresql+psycopg://", "postgresql://")
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL of every backend: a SQLite file, or a fresh database on the PostgreSQL test server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
        return
    with fresh_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def postgres_database(postgres_server: str) -> Iterator[str]:
    """A fresh database on the PostgreSQL test server."""
    with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture
def user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder of the user's own, outside every package, holding their objective (``user_obj.py``, a copy of
    ``tests/objective/user_objective.py``), on ``sys.path`` as a user's working directory would be."""
    import shutil

    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(ROOT / "tests" / "objective" / "user_objective.py", folder / "user_obj.py")
    monkeypatch.syspath_prepend(str(folder))
    return folder

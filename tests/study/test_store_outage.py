"""A store that is briefly unreachable: a real PostgreSQL server of the test's own, stopped and started again under a
running study. A short outage is ridden out (calls retried with backoff); a long one stops the run cleanly with one
line saying why, and the next run resumes with exact accounting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.chaos import audit, finished
from tests.conftest import NB201_PATH, ROOT, fresh_database

PORT = "55433"
GOAL = {
    "study": "outage",
    "task": {"name": "nasbench201", "path": NB201_PATH, "sleep_s": 0.3},
    "objectives": {"val_accuracy": "max"},
    "budget": {"trials": 10},
    "search": {"seed": 0},
}


class Server:
    env = {**os.environ, "EVOFORGE_PG_PORT": PORT}

    def run(self, action: str) -> str:
        script = str(ROOT / "scripts" / "postgres.sh")
        done = subprocess.run([script, action], env=self.env, text=True, capture_output=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


@pytest.fixture
def server(postgres_server: str) -> Iterator[tuple[Server, str]]:
    """A server of this test's own (port 55433), so stopping it touches no other test; a fresh database on it."""
    own = Server()
    url = own.run("start").splitlines()[-1]
    try:
        with fresh_database(url) as database:
            yield own, database
    finally:
        own.run("start")  # in case a test left it stopped: the database is dropped through it
        own.run("stop")


def _wait_for(url: str, trials: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if finished(url, "outage") >= trials:
            return
        time.sleep(0.1)
    raise AssertionError(f"{trials} trials did not complete")


def test_a_short_outage_is_ridden_out_a_long_one_stops_the_run_cleanly_and_it_resumes(
    server: tuple[Server, str], tmp_path: Path
) -> None:
    own, url = server
    goal = tmp_path / "goal.json"
    goal.write_text(json.dumps(GOAL))
    cmd = [sys.executable, "-m", "evoforge", "run", str(goal), "--storage", url, "--workers", "1", "--quiet"]
    env = {**os.environ, "EVOFORGE_STORE_RETRY_S": "4"}
    run = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(url, 2)
    own.run("stop")  # shorter than the retry window: the run carries on
    time.sleep(1.5)
    own.run("start")
    _wait_for(url, 4)
    assert run.poll() is None
    own.run("stop")  # longer than the window: the run stops, saying why, in one line
    _, err = run.communicate(timeout=120)
    lines = [line for line in err.splitlines() if line.strip() and "retrying" not in line]
    assert run.returncode == 2
    assert len(lines) == 1 and "unreachable for 4 s" in lines[0] and "run the same command again" in lines[0], err
    own.run("start")
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert audit(url, "outage", 10).problems == []

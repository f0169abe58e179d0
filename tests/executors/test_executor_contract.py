"""The executor contract, run against every implementation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evoforge.executors import Executor, InlineExecutor, Job, LocalPool, Outcome
from tests.conftest import process_alive

F = "tests.executors.jobs:"


@pytest.fixture(params=["inline", "local_pool", "ray"])
def executor(request: pytest.FixtureRequest) -> Iterator[Executor]:
    ex: Executor
    if request.param == "ray":
        request.getfixturevalue("ray_cluster")
        from evoforge.executors._ray import RayExecutor

        ex = RayExecutor(2)  # joins the session's instance: its shutdown leaves Ray running
    else:
        ex = InlineExecutor(capacity=2) if request.param == "inline" else LocalPool(2)
    yield ex
    ex.shutdown()


@pytest.fixture
def pool() -> Iterator[LocalPool]:
    ex = LocalPool(2)
    yield ex
    ex.shutdown()


def drain(ex: Executor) -> dict[int, Outcome]:
    out: dict[int, Outcome] = {}
    while ex.running:
        for o in ex.wait(timeout=60):
            assert o.key not in out, "an outcome was returned twice"
            out[o.key] = o
    return out


def test_returns_values(executor: Executor) -> None:
    executor.submit(Job(1, F + "double", 21))
    executor.submit(Job(2, F + "double", 5))
    out = drain(executor)
    assert out[1].ok and out[1].value == 42 and out[2].value == 10


def test_a_job_that_raises_comes_back_with_its_traceback(executor: Executor) -> None:
    executor.submit(Job(1, F + "boom", "bad things"))
    out = drain(executor)[1]
    assert not out.ok and "RuntimeError: bad things" in (out.error or "") and "Traceback" in (out.error or "")
    executor.submit(Job(2, F + "double", 1))
    assert drain(executor)[2].value == 2


def test_capacity_is_enforced(executor: Executor) -> None:
    executor.submit(Job(1, F + "double", 1))
    executor.submit(Job(2, F + "double", 2))
    with pytest.raises(RuntimeError, match="full"):
        executor.submit(Job(3, F + "double", 3))
    assert executor.running == 2
    drain(executor)
    assert executor.running == 0


def test_a_hanging_job_is_killed_at_its_timeout_and_the_worker_replaced() -> None:
    with LocalPool(1) as pool:
        pool.submit(Job(1, F + "pid", None))
        first_pid = drain(pool)[1].value  # type: ignore[arg-type]
        pool.submit(Job(2, F + "hang", 600.0, timeout_s=1.0))
        out = drain(pool)[2]  # type: ignore[arg-type]
        assert not out.ok and "timed out after 1 s" in (out.error or "")
        assert not process_alive(first_pid), "the hung worker is still running"
        pool.submit(Job(3, F + "pid", None))
        assert drain(pool)[3].value != first_pid  # type: ignore[arg-type]


def test_a_worker_that_dies_while_idle_is_replaced_before_the_next_job() -> None:
    with LocalPool(1) as pool:
        pool.submit(Job(1, F + "pid", None))
        pid = drain(pool)[1].value  # type: ignore[arg-type]
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        pool.submit(Job(2, F + "double", 21))
        assert drain(pool)[2].value == 42  # type: ignore[arg-type]


def test_a_crashing_worker_is_reported_and_replaced(pool: LocalPool) -> None:
    pool.submit(Job(1, F + "crash", 3))
    out = drain(pool)[1]
    assert not out.ok and "worker process died (exit code 3)" in (out.error or "")
    pool.submit(Job(2, F + "double", 8))
    assert drain(pool)[2].value == 16


def test_timeout_counts_from_the_start_of_the_job_not_the_worker_boot() -> None:
    # A fresh worker needs a moment to start (about 0.7 s here); the job must still get its full time. Counted
    # from submission, boot + 0.6 s of work would pass the 0.9 s limit.
    with LocalPool(1) as ex:
        ex.submit(Job(1, F + "hang", 0.6, timeout_s=0.9))
        assert drain(ex)[1].ok  # type: ignore[arg-type]


def test_workers_that_cannot_start_stop_the_pool_with_a_clear_error(tmp_path: Path) -> None:
    # A main module that starts a pool without the `if __name__ == "__main__"` guard makes every spawned worker
    # fail during start-up: the pool must say so instead of failing job after job forever.
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from evoforge.executors import Job, LocalPool\n"
        "pool = LocalPool(1)\n"
        "for key in range(100):\n"
        "    pool.submit(Job(key, 'tests.executors.jobs:double', key))\n"
        "    pool.wait(timeout=60)\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode != 0
    assert "ExecutorError: worker processes die during start-up (exit code 1, 3 in a row)" in result.stderr

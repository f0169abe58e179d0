"""Per-job CPU-time and memory caps, enforced on real worker processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evoforge.executors import InlineExecutor, Job, LocalPool
from tests.executors.test_executor_contract import F, drain


@pytest.fixture
def pool() -> Iterator[LocalPool]:
    ex = LocalPool(1)
    yield ex
    ex.shutdown()


def test_a_job_past_its_cpu_cap_fails_and_the_pool_stays_usable(pool: LocalPool) -> None:
    pool.submit(Job(1, F + "spin", 30.0, cpu_s=1))
    out = drain(pool)[1]
    assert not out.ok and out.error == "CPU-time cap of 1 s exceeded; worker killed and replaced"
    pool.submit(Job(2, F + "double", 4))
    assert drain(pool)[2].value == 8


def test_a_job_past_its_memory_cap_fails_and_the_pool_stays_usable(pool: LocalPool) -> None:
    pool.submit(Job(1, F + "hold", (400, 10.0), memory_mb=250))
    out = drain(pool)[1]
    assert not out.ok and (out.error or "").startswith("memory cap of 250 MB exceeded (resident ")
    assert (out.error or "").endswith(" MB); worker killed and replaced")
    pool.submit(Job(2, F + "double", 4))
    assert drain(pool)[2].value == 8


def test_the_memory_cap_counts_the_jobs_child_processes(pool: LocalPool) -> None:
    pool.submit(Job(1, F + "hold_in_child", 400, memory_mb=250))
    out = drain(pool)[1]
    assert not out.ok and (out.error or "").startswith("memory cap of 250 MB exceeded")


def test_a_job_within_both_caps_returns_its_value(pool: LocalPool) -> None:
    pool.submit(Job(1, F + "hold", (20, 0.5), cpu_s=10, memory_mb=1000))
    out = drain(pool)[1]
    assert out.ok and out.value == 20


def test_the_cpu_limit_is_restored_after_a_capped_job(pool: LocalPool) -> None:
    pool.submit(Job(1, F + "cpu_limit", None))
    before = drain(pool)[1].value
    pool.submit(Job(2, F + "cpu_limit", None, cpu_s=5))
    during = drain(pool)[2].value
    pool.submit(Job(3, F + "cpu_limit", None))
    assert drain(pool)[3].value == before != during


@pytest.mark.parametrize("caps", [{"cpu_s": 1.0}, {"memory_mb": 100.0}])
def test_the_inline_executor_refuses_capped_jobs(caps: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="caps need worker processes"):
        InlineExecutor().submit(Job(1, F + "double", 1, **caps))

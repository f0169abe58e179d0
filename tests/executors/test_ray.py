"""What Ray adds to the executor contract (which runs on Ray too, in test_executor_contract.py): lost workers,
cancelled jobs, refused CPU caps, and a whole study run on a real local Ray instance."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from evoforge import Store
from evoforge.executors import Job
from evoforge.goal import goal_from_dict
from evoforge.study import run_study
from tests.conftest import NB201_PATH
from tests.executors.test_executor_contract import drain

ray = pytest.importorskip("ray", reason="Ray is the ray extra (pip install evoforge[ray])")
from evoforge.executors._ray import RayExecutor  # noqa: E402 - only with Ray installed

F = "tests.executors.jobs:"


@pytest.fixture
def executor(ray_cluster: str) -> Iterator[RayExecutor]:
    ex = RayExecutor(2)
    yield ex
    ex.shutdown()


def test_a_job_whose_worker_dies_comes_back_lost(executor: RayExecutor) -> None:
    executor.submit(Job(1, F + "crash", 3))
    out = drain(executor)[1]
    assert not out.ok and out.lost and "Ray lost the job" in (out.error or "")
    executor.submit(Job(2, F + "double", 4))
    assert drain(executor)[2].value == 8


def test_a_hanging_job_is_cancelled_at_its_timeout(executor: RayExecutor) -> None:
    executor.submit(Job(1, F + "hang", 60, timeout_s=1.0))
    out = drain(executor)[1]
    assert not out.ok and "timed out after 1 s" in (out.error or "")


def test_cpu_caps_are_refused(executor: RayExecutor) -> None:
    with pytest.raises(ValueError, match="CPU-time caps are not enforced on Ray"):
        executor.submit(Job(1, F + "double", 1, cpu_s=5))


def test_a_study_runs_on_ray(ray_cluster: str, storage: str) -> None:
    goal = {
        "study": "on-ray",
        "task": {"name": "nasbench201", "path": NB201_PATH},
        "objectives": {"val_accuracy": "max"},
        "budget": {"trials": 8},
        "search": {"seed": 0},
    }
    report = run_study(goal_from_dict(goal), storage, workers=2, executor="ray")
    store = Store(storage)
    study = store.get_study("on-ray")
    assert study is not None and report.trials.get("complete") == 8
    assert store.generations(study.id)

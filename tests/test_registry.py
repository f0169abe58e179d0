"""Parts found by name, by import path or by an installed package's entry point, held to their base class; every
way of naming one that goes wrong is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from evoforge import GoalError
from evoforge.executors import EXECUTOR_PARTS
from evoforge.proposers import PROPOSER_PARTS, Proposer
from evoforge.schedulers import SCHEDULER_PARTS
from evoforge.tasks import TASK_PARTS, Task, task_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = ROOT / "examples" / "plugins"
    monkeypatch.syspath_prepend(str(folder))
    return folder


def test_a_built_in_name_an_import_path_and_an_entry_point_find_their_classes(
    plugins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert TASK_PARTS.load("digits").__name__ == "DigitsTask"
    assert issubclass(TASK_PARTS.load("regression_task:RegressionTask"), Task)
    info = tmp_path / "evoforge_demo_plugins-0.1.dist-info"  # what `pip install` of a package registering parts leaves
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: evoforge-demo-plugins\nVersion: 0.1\n")
    points = "[evoforge.tasks]\nregression = regression_task:RegressionTask\n"
    (info / "entry_points.txt").write_text(points + "[evoforge.proposers]\nhill_climb = hill_climb:HillClimb\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert TASK_PARTS.load("regression").__name__ == "RegressionTask"
    assert issubclass(PROPOSER_PARTS.load("hill_climb"), Proposer)
    assert "regression" in TASK_PARTS.names() and "hill_climb" in PROPOSER_PARTS.names()


@pytest.mark.parametrize(
    ("registry", "name", "message"),
    [
        (TASK_PARTS, "nope", r"task.name: unknown task 'nope' \(known: .*digits.*; or an import path"),
        (TASK_PARTS, "no_such_module:Task", "task.name: cannot import 'no_such_module': no module named"),
        (TASK_PARTS, "regression_task:Nothing", "task.name: 'regression_task' has no 'Nothing'"),
        (TASK_PARTS, "hill_climb:HillClimb", r"task.name: 'hill_climb:HillClimb' is not a task \(a subclass of "),
        (PROPOSER_PARTS, "regression_task:RegressionTask", "search.proposer: .* is not a proposer"),
        (SCHEDULER_PARTS, "median", "scheduler.name: unknown scheduler 'median'"),
        (EXECUTOR_PARTS, "slurm", "--executor: unknown executor 'slurm'"),
        (TASK_PARTS, "regression_task", "task.name: unknown task"),
    ],
)
def test_a_part_that_cannot_be_found_is_one_line(plugins: Path, registry, name: str, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(GoalError, match=message) as caught:
        registry.load(name)
    assert "\n" not in str(caught.value)


def test_a_module_that_fails_to_import_is_named_with_its_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_part.py").write_text("import math\nraise RuntimeError('no GPU here')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(GoalError, match="importing 'broken_part' failed: RuntimeError: no GPU here"):
        TASK_PARTS.load("broken_part:Task")


def test_a_task_object_gives_the_section_that_builds_it_again(plugins: Path) -> None:
    cls = TASK_PARTS.load("regression_task:RegressionTask")
    task = cls(cls.Options(val_fraction=0.25))  # type: ignore[call-arg]
    assert task_config(task) == {"name": "regression_task:RegressionTask", "val_fraction": 0.25}
    assert task_config(TASK_PARTS.load("digits")()) == {"name": "digits"}  # type: ignore[call-arg]


def test_an_executor_named_by_import_path_is_built_with_its_capacity() -> None:
    from evoforge.executors import InlineExecutor, make_executor

    executor = make_executor("evoforge.executors._inline:InlineExecutor", 3)
    assert isinstance(executor, InlineExecutor) and executor.capacity == 3
    with pytest.raises(GoalError, match="--address: only the ray executor joins a cluster"):
        make_executor("local", 2, address="auto")

"""Parts of one's own: a task and a proposer in modules outside the package, named in a goal by import path and run
by the CLI on worker processes, or passed to a study as objects."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from evoforge import Store
from evoforge.goal import goal_from_dict
from evoforge.study import Study

ROOT = Path(__file__).resolve().parents[2]
GOAL = {
    "study": "mine",
    "task": {"name": "regression_task:RegressionTask"},
    "objectives": {"val_loss": "min"},
    "budget": {"trials": 12},
    "search": {"proposer": "hill_climb:HillClimb", "seed": 0, "options": {"patience": 4}},
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's folder holding their parts, outside every package."""
    for name in ("regression_task.py", "hill_climb.py"):
        shutil.copy(ROOT / "examples" / "plugins" / name, tmp_path / name)
    return tmp_path


def test_a_task_and_a_proposer_of_ones_own_run_from_a_goal_file_on_two_workers(project: Path) -> None:
    (project / "goal.yaml").write_text(yaml.safe_dump(GOAL))
    command = [sys.executable, "-m", "evoforge", "run", "goal.yaml", "--workers", "2", "--quiet"]
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    store = Store(f"sqlite:///{project / 'evoforge.db'}")
    study = store.get_study("mine")
    assert study is not None
    trials = [t for t in store.trials(study.id) if t.proposer != "attribution"]
    assert len(trials) >= 12 and {t.proposer for t in trials} == {"hill_climb"}
    assert all(t.state in ("complete", "duplicate") for t in trials)
    assert any(t.parents for t in trials)  # it climbed from the best
    evidence = store.promotions(study.id)[0].evidence
    assert evidence is not None and evidence.metric == "val_loss" and evidence.held_out == "held-out split"


def test_parts_passed_as_objects_make_a_study(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(project))
    from hill_climb import HillClimb  # type: ignore[import-not-found]
    from regression_task import RegressionOptions, RegressionSpace, RegressionTask  # type: ignore[import-not-found]

    goal = goal_from_dict({**GOAL, "task": {"name": "ignored: the object is used"}, "search": {"seed": 0}})
    task = RegressionTask(RegressionOptions(val_fraction=0.25))
    study = Study(goal, f"sqlite:///{project / 's.db'}", task=task, proposer=HillClimb(RegressionSpace(), 0))
    report = study.run()
    assert report.stopped_because.startswith("trial budget of 12 trials spent")
    record = Store(f"sqlite:///{project / 's.db'}").get_study("mine")
    assert record is not None and '"name": "regression_task:RegressionTask", "val_fraction": 0.25' in record.goal_json
    assert '"proposer": "hill_climb:HillClimb"' in record.goal_json

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import digits_goal, nb201_goal


def evoforge(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "evoforge", *args], capture_output=True, text=True, cwd=cwd, env=env)


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    (tmp_path / "goal.yaml").write_text(yaml.safe_dump(nb201_goal(trials=25)))
    result = evoforge("run", "goal.yaml", "--workers", "0", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Lineage of study nb" in result.stdout and "held out" in result.stdout
    return tmp_path


def test_status_json_has_the_documented_fields(finished: Path) -> None:
    result = evoforge("status", "--json", cwd=finished)  # default storage: sqlite:///evoforge.db here
    status = json.loads(result.stdout)
    assert status["study"] == "nb" and isinstance(status["generation"], int)
    assert {"complete", "failed", "pruned", "running", "waiting"} <= set(status["trials"])
    assert status["trials"]["complete"] == 25
    champion = status["champion"]
    assert len(champion["design"]) == 16 and 0.8 < champion["held_out"]["value"] <= 1.0
    assert champion["held_out"]["metric"] == "val_accuracy"


def test_lineage_trials_and_export_commands(finished: Path) -> None:
    lineage = json.loads(evoforge("lineage", "--study", "nb", "--json", cwd=finished).stdout)
    assert lineage["generations"][0]["generation"] == 0 and lineage["edges"]
    assert "generation 0: trial #" in evoforge("lineage", cwd=finished).stdout
    trials = json.loads(evoforge("trials", "--json", cwd=finished).stdout)
    assert len(trials) == 25 and trials[0]["genes"]["edges"]
    assert "complete" in evoforge("trials", "--state", "complete", cwd=finished).stdout
    result = evoforge("export", "--out", "champion", cwd=finished)
    assert result.returncode == 0 and (finished / "champion" / "card.json").is_file()


@pytest.mark.parametrize(
    ("goal_text", "message"),
    [
        ("study: x\ntask: {name: digits\n", "not valid YAML"),
        (yaml.safe_dump({**nb201_goal(), "task": {"name": "imagenet"}}), "task.name: unknown task 'imagenet'"),
        (yaml.safe_dump({**nb201_goal(), "task": {"name": "mnist", "path": "nowhere"}}), "task.path: folder not found"),
        (yaml.safe_dump({**nb201_goal(), "objectives": {"joy": "max"}}), "objectives.joy: task 'nasbench201' does not"),
        (yaml.safe_dump({**nb201_goal(), "search": {"proposer": "magic"}}), "search.proposer: unknown proposer"),
        (
            yaml.safe_dump({**nb201_goal(), "objectives": {"val_accuracy": "max", "energy_j": "min"}}),
            "objectives.energy_j: task 'nasbench201' does not measure 'energy_j'",
        ),
        (
            yaml.safe_dump({**nb201_goal(), "preference": {"objective": "latency_ms"}}),
            "preference.objective: 'latency_ms' is not an objective",
        ),
        (
            yaml.safe_dump({**nb201_goal(), "scheduler": {"name": "asha", "min_epochs": 300}}),
            "scheduler.min_epochs: the first rung (300 epochs) is not before the end",
        ),
        (
            yaml.safe_dump({**digits_goal(), "objectives": {"time_to_accuracy_s": "min"}}),
            "objectives.time_to_accuracy_s: set evaluation.target_accuracy",
        ),
    ],
)
def test_bad_goals_exit_2_with_one_line_and_write_nothing(tmp_path: Path, goal_text: str, message: str) -> None:
    (tmp_path / "goal.yaml").write_text(goal_text)
    result = evoforge("run", "goal.yaml", "--workers", "0", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["goal.yaml"]  # no store was created


def test_a_storage_url_that_cannot_be_opened_exits_2(tmp_path: Path) -> None:
    (tmp_path / "goal.yaml").write_text(yaml.safe_dump(nb201_goal()))
    result = evoforge("run", "goal.yaml", "--storage", "sqlite:///no/such/dir/x.db", cwd=tmp_path)
    assert result.returncode == 2 and "--storage: folder does not exist" in result.stderr
    result = evoforge("status", cwd=tmp_path)
    assert result.returncode == 2 and "no store at evoforge.db" in result.stderr
    assert not (tmp_path / "evoforge.db").exists()


def test_read_commands_name_a_missing_study(finished: Path) -> None:
    result = evoforge("status", "--study", "nope", cwd=finished)
    assert result.returncode == 2 and "no study named 'nope'" in result.stderr and "studies: nb" in result.stderr


def test_demo_prints_lineage_and_the_champions_held_out_accuracy(tmp_path: Path) -> None:
    result = evoforge("demo", "--trials", "6", "--workers", "2", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Lineage of study digits-demo" in result.stdout
    assert re.search(r"^generation 0: trial #\d+ ", result.stdout, re.MULTILINE)  # whichever finished first
    assert "held out: val_accuracy" in result.stdout
    assert "designer    proposer guided, profile default" in result.stdout  # the default search, and what it learned


def test_status_and_lineage_show_the_front_and_trials_show_pruned(tmp_path: Path) -> None:
    goal = nb201_goal(
        trials=30,
        objectives={"val_accuracy": "max", "latency_ms": "min"},
        preference={"objective": "val_accuracy", "where": {"latency_ms": {"max": 15}}},
        scheduler={"name": "asha", "min_epochs": 12, "eta": 3},
    )
    (tmp_path / "goal.yaml").write_text(yaml.safe_dump(goal, sort_keys=False))  # objectives in the order given
    assert evoforge("run", "goal.yaml", "--workers", "0", "--quiet", cwd=tmp_path).returncode == 0
    status = evoforge("status", cwd=tmp_path).stdout
    assert "objectives val_accuracy max, latency_ms min" in status and "non-dominated trials, hypervolume" in status
    view = json.loads(evoforge("status", "--json", cwd=tmp_path).stdout)
    for member in view["front"]["members"]:
        assert f"#{member['trial']}" in status
    assert "non-dominated trials" in evoforge("lineage", cwd=tmp_path).stdout
    assert "pruned" in evoforge("trials", "--state", "pruned", cwd=tmp_path).stdout


def test_an_estimated_energy_is_marked_wherever_it_is_shown() -> None:
    from evoforge.cli._format import format_front, format_status

    member = {
        "trial": 3,
        "design": "ab12",
        "metrics": {"val_accuracy": 0.9, "energy_j": 12.0},
        "estimated": ["energy_j"],
    }
    front = {"objectives": {"val_accuracy": "max", "energy_j": "min"}, "hypervolume": 1.0, "members": [member]}
    view = {
        "study": "s",
        "task": "digits",
        "objectives": front["objectives"],
        "budget": {"trials": 5},
        "trials": {"complete": 1},
        "generation": 0,
        "champion": {"trial": 3, "design": "ab12", "metrics": member["metrics"], "estimated": ["energy_j"]},
        "front": front,
    }
    assert "energy_j 12.0000 (estimated)" in format_status(view)
    assert "12.0000~est" in format_front(front) and "~est: an estimate, not a reading" in format_front(front)

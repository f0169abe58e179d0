"""A user's program as the task: options checked up front, each design run for real in the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evoforge._errors import GoalError
from evoforge.design import Design
from evoforge.goal import goal_from_dict
from evoforge.sandbox import SandboxError
from evoforge.spaces import CodeSpace
from evoforge.study import prepare
from evoforge.tasks import EvalSettings, make_task
from evoforge.tasks._user_code import UserCodeTask

ROOT = Path(__file__).resolve().parents[2]
PROGRAM = """import json
from evoforge_trial import SEED

# EVOLVE-BLOCK-START
def predict(x):
    return False
# EVOLVE-BLOCK-END

def accuracy(xs):
    return sum(predict(x) == (x % 3 == 0) for x in xs) / len(xs)

print(json.dumps({"val_accuracy": accuracy(range(0, 60)), "test_accuracy": accuracy(range(60, 90)), "seed": SEED}))
"""


def _task(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, program: str = PROGRAM, **options: Any) -> UserCodeTask:
    (tmp_path / "prog.py").write_text(program)
    monkeypatch.chdir(tmp_path)  # the file is found relative to the working directory, as in a goal
    task = make_task({"name": "user_code", "file": "prog.py", "eval": "python prog.py", **options})
    assert isinstance(task, UserCodeTask)
    return task


def _edited(task: UserCodeTask, old: str, new: str) -> Design:
    space = task.space({})
    return space.design_of(space.render(space.seed).replace(old, new))


def _goal(**task: Any) -> dict[str, Any]:
    return {
        "study": "u",
        "task": {"name": "user_code", "file": "prog.py", "eval": "python prog.py", **task},
        "objectives": {"val_accuracy": "max"},
        "budget": {"trials": 2},
    }


def test_the_program_as_written_runs_in_the_sandbox_and_its_printed_metrics_come_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = _task(tmp_path, monkeypatch)
    space = task.space({})
    assert isinstance(space, CodeSpace) and "evoforge_trial" in space.allow_imports
    result = task.evaluate(space.seed, seed=7, settings=EvalSettings())
    assert result.metrics == {"val_accuracy": pytest.approx(40 / 60), "seed": 7.0}  # test_* is held out
    assert task.test(space.seed, result.artifact).metrics["val_accuracy"] == pytest.approx(20 / 30)
    better = task.evaluate(_edited(task, "return False", "return x % 3 == 0"), seed=7, settings=EvalSettings())
    assert better.metrics["val_accuracy"] == 1.0


def test_the_seed_also_reaches_the_command_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "check.py").write_text(
        "import json, os, sys\nprint(json.dumps({'val_accuracy': 1, 'arg': int(sys.argv[1]), "
        "'env': int(os.environ['EVOFORGE_SEED'])}))\n"
    )
    task = _task(tmp_path, monkeypatch, eval="python check.py {seed}", include=["check.py"])
    result = task.evaluate(task.space({}).seed, seed=12, settings=EvalSettings())
    assert (result.metrics["arg"], result.metrics["env"]) == (12, 12)


def test_an_included_helper_module_is_copied_and_may_be_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "helper.py").write_text("THRESHOLD = 0.25\n")
    program = PROGRAM.replace("import json\n", "import json\nfrom helper import THRESHOLD\n")
    program = program.replace('"seed": SEED', '"seed": SEED, "threshold": THRESHOLD')
    task = _task(tmp_path, monkeypatch, program, include=["helper.py"])
    assert task.evaluate(task.space({}).seed, seed=0, settings=EvalSettings()).metrics["threshold"] == 0.25


def test_a_candidate_the_static_check_refuses_fails_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = _task(tmp_path, monkeypatch)
    bad = _edited(task, "    return False", "    import os\n    return bool(os.getpid())")
    with pytest.raises(SandboxError, match=r"^sandbox refused: static check: line 6: .*'os'"):
        task.evaluate(bad, seed=0, settings=EvalSettings())


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("return False", "return 1 / 0", r"^sandbox failed: exit code 1: ZeroDivisionError: division by zero$"),
        ("return False", "while True:\n        pass", r"^sandbox (timeout|cpu): "),
    ],
)
def test_a_candidate_that_crashes_or_runs_too_long_fails_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: str, new: str, message: str
) -> None:
    task = _task(tmp_path, monkeypatch, timeout_s=1.0)
    with pytest.raises(SandboxError, match=message) as caught:
        task.evaluate(_edited(task, old, new), seed=0, settings=EvalSettings())
    assert "\n" not in str(caught.value)


def test_metrics_that_are_missing_or_not_printed_fail_the_trial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = _task(tmp_path, monkeypatch, metrics=["val_accuracy", "val_loss"])
    with pytest.raises(SandboxError, match=r"printed no 'val_loss' \(it printed: seed, test_accuracy, val_accuracy\)"):
        task.evaluate(task.space({}).seed, seed=0, settings=EvalSettings())
    quiet = _task(tmp_path, monkeypatch, PROGRAM.replace("print(json.dumps(", "print('done', ("))
    with pytest.raises(SandboxError, match="printed no JSON object of numbers last; its last line: done"):
        quiet.evaluate(quiet.space({}).seed, seed=0, settings=EvalSettings())


@pytest.mark.parametrize(
    ("program", "options", "message"),
    [
        (None, {"file": "missing.py"}, "task.file: file not found: missing.py"),
        ("x = 1\n", {}, "task.file: prog.py has no EVOLVE blocks"),
        ("# EVOLVE-BLOCK-START\nx = 1\n", {}, "task.file: prog.py: the EVOLVE block opened at line 1 is never closed"),
        (PROGRAM, {"include": ["nowhere.py"]}, "task.include: file not found: nowhere.py"),
        (PROGRAM, {"metrics": ["test_accuracy"]}, "task.metrics: Value error, test_accuracy is held out"),
        (PROGRAM, {"eval": "python 'prog.py"}, "task.eval: Value error, cannot split the command"),
    ],
)
def test_bad_options_get_one_line_naming_the_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, program: str | None, options: dict[str, Any], message: str
) -> None:
    if program is not None:
        (tmp_path / "prog.py").write_text(program)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GoalError) as caught:
        make_task({"name": "user_code", "file": "prog.py", "eval": "python prog.py", **options})
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_the_goal_objectives_must_be_among_the_metrics_the_program_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "prog.py").write_text(PROGRAM)
    monkeypatch.chdir(tmp_path)
    goal = _goal()
    goal["objectives"] = {"val_loss": "min"}
    goal["search"] = {"proposer": "llm", "base_url": "http://127.0.0.1:9/v1", "model": "m"}
    with pytest.raises(GoalError, match="objectives.val_loss: task 'user_code' does not measure 'val_loss'"):
        prepare(goal_from_dict(goal))
    goal["task"]["metrics"] = ["val_loss"]
    assert prepare(goal_from_dict(goal)).task.metrics == frozenset({"val_loss"})


def test_another_proposer_on_a_program_is_refused_up_front(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "prog.py").write_text(PROGRAM)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(GoalError, match="search.proposer: guided needs a predictor encoding"):
        prepare(goal_from_dict(_goal()))


def test_the_export_is_the_rendered_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    task = _task(tmp_path, monkeypatch)
    design = _edited(task, "return False", "return x % 3 == 0")
    assert task.export_files(design, None) == {"prog.py": PROGRAM.replace("return False", "return x % 3 == 0").encode()}


def test_the_example_training_file_trains_in_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    task = make_task({"name": "user_code", "file": "examples/user_code/train.py", "eval": "python train.py"})
    result = task.evaluate(task.space({}).seed, seed=0, settings=EvalSettings())
    assert 0.1 < result.metrics["val_accuracy"] <= 1.0 and "train_time_s" in result.metrics
    assert 0.1 < task.test(task.space({}).seed, result.artifact).metrics["val_accuracy"] <= 1.0
    assert json.loads(result.artifact or b"{}").keys() == {"val_accuracy", "test_accuracy", "train_time_s"}

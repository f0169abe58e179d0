"""Program search for training algorithms as a task: trained in the sandbox, judged held out, exported as code."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from evoforge import Store
from evoforge._errors import GoalError
from evoforge.design import Design
from evoforge.export import export_champion
from evoforge.goal import goal_from_dict
from evoforge.programs import seed_program
from evoforge.sandbox import SandboxError
from evoforge.spaces import ProgramSpace
from evoforge.study import run_study
from evoforge.tasks import EvalSettings, make_task
from evoforge.tasks._program_runner import load_candidate

FAST = {"name": "optimizer_discovery", "steps": 30, "problems": ["digits_mlp", "regression"], "held_out": ["friedman"]}


def _design(name: str, **hyper: float) -> Design:
    program = seed_program(name)
    return ProgramSpace().design(program.with_(hyper={**program.hyper_dict, **hyper}))


def test_a_program_is_trained_on_each_problem_in_the_sandbox() -> None:
    task = make_task(FAST)
    result = task.evaluate(_design("adam", lr=0.01), seed=1, settings=EvalSettings())
    m = result.metrics
    assert set(m) >= {"val_score", "val_digits_mlp", "val_regression", "instructions", "slots"}
    assert 0.5 < m["val_digits_mlp"] <= 1
    assert m["val_score"] == pytest.approx((m["val_digits_mlp"] + m["val_regression"]) / 2)
    assert m["instructions"] == 13 and m["slots"] == 2
    assert result.info["program"][0] == "m = interp(m, g, b1)"
    again = task.evaluate(_design("adam", lr=0.01), seed=1, settings=EvalSettings())
    assert again.metrics == m  # deterministic for a seed


def test_the_held_out_score_comes_from_problems_the_search_never_saw() -> None:
    task = make_task(FAST)
    result = task.evaluate(_design("momentum"), seed=2, settings=EvalSettings())
    held_out = task.test(_design("momentum"), result.artifact).metrics["val_score"]
    assert 0 < held_out <= 1 and held_out != result.metrics["val_score"]


def test_a_diverging_program_scores_zero_instead_of_failing() -> None:
    task = make_task(FAST)
    result = task.evaluate(_design("sgd", lr=1e6), seed=0, settings=EvalSettings())
    assert result.metrics["val_digits_mlp"] < 0.2 and result.metrics["val_regression"] == 0.0


def test_a_run_past_the_sandbox_limits_fails_the_trial_with_the_reason() -> None:
    task = make_task({**FAST, "steps": 100_000, "timeout_s": 2})
    with pytest.raises(SandboxError, match="wall-time limit"):
        task.evaluate(_design("sgd"), seed=0, settings=EvalSettings())


def test_export_writes_the_program_as_an_importable_optimizer(tmp_path: Path) -> None:
    task = make_task(FAST)
    files = task.export_files(_design("lion"), None)
    assert list(files) == ["evolved_optimizer.py"]
    path = tmp_path / "evolved_optimizer.py"
    path.write_bytes(files["evolved_optimizer.py"])
    assert hasattr(load_candidate(path), "EvolvedOptimizer")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"problems": ["nope"]}, "task.problems.*unknown problem 'nope'"),
        ({"held_out": ["digits_mlp"]}, "task.held_out: digits_mlp is also a training problem"),
        ({"mnist": "/no/such/folder", "problems": ["mnist_mlp"]}, "task.mnist: folder not found"),
        ({"steps": 0}, "task.steps"),
    ],
)
def test_bad_options_are_refused_with_one_line(options: dict, message: str) -> None:
    with pytest.raises(GoalError, match=message):
        make_task({**FAST, **options})


def test_a_short_search_improves_on_its_seed_and_exports_the_winner(storage: str, tmp_path: Path) -> None:
    # SGD with a learning rate far too small for 30 steps: the search should find something better.
    start = seed_program("sgd").with_(hyper={"lr": 0.002})
    goal = goal_from_dict(
        {
            "study": "discover",
            "task": FAST,
            "space": {"kind": "optimizer", "seeds": ["sgd"]},
            "objectives": {"val_score": "max"},
            "budget": {"trials": 6},
            "search": {"proposer": "evolution", "population": 4, "seed": 3, "start_from": start.genes()},
            "oversight": {"seeds": 2, "attribution": {"enabled": False}},
        }
    )
    run_study(goal, storage, workers=2)
    store = Store(storage)
    study = store.get_study("discover")
    assert study is not None
    trials = [t for t in store.trials(study.id) if t.state == "complete"]
    seed_score = trials[0].metrics["val_score"]
    assert trials[0].design.genes == ProgramSpace().design(start).genes
    assert max(t.metrics["val_score"] for t in trials) > seed_score + 0.05
    written = export_champion(store, study, tmp_path / "out")
    assert {p.name for p in written} == {"evolved_optimizer.py", "card.json"}
    card = json.loads((tmp_path / "out" / "card.json").read_text())
    assert card["design"]["genes"]["kind"] == "optimizer"
    assert hasattr(load_candidate(tmp_path / "out" / "evolved_optimizer.py"), "EvolvedOptimizer")


def test_sampled_programs_are_valid_and_start_from_the_seeds() -> None:
    space = ProgramSpace()
    rng = random.Random(0)
    for _ in range(50):
        space.validate(space.sample(rng))


@pytest.mark.parametrize(("kind", "name"), [("schedule", "cosine"), ("loss", "focal")])
def test_schedules_and_losses_are_searched_with_the_same_task(kind: str, name: str, tmp_path: Path) -> None:
    task = make_task({**FAST, "problems": ["digits_mlp"]})
    space = task.space({"kind": kind})
    design = space.design(seed_program(name))
    space.validate(design)
    result = task.evaluate(design, seed=0, settings=EvalSettings())
    assert 0.2 < result.metrics["val_digits_mlp"] <= 1  # trained well above chance (0.1) in 30 steps
    ((name_out, source),) = task.export_files(design, result.artifact).items()
    assert name_out == f"evolved_{kind}.py"
    (tmp_path / name_out).write_bytes(source)
    module = load_candidate(tmp_path / name_out)
    assert hasattr(module, "evolved_schedule" if kind == "schedule" else "EvolvedLoss")


def test_the_evidence_judges_a_program_on_its_held_out_score() -> None:
    from evoforge.goal import goal_from_dict
    from evoforge.study import held_out

    goal = goal_from_dict({"study": "s", "task": FAST, "objectives": {"val_score": "max"}, "budget": {"trials": 1}})
    assert held_out(goal, {"val_score": 0.5, "test_score": 0.8}) == {"val_score": 0.8, "test_score": 0.8}

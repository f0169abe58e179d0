from __future__ import annotations

from pathlib import Path

import pytest

from evoforge import GoalError
from evoforge.goal import goal_from_dict, load_goal
from evoforge.study import prepare
from tests.conftest import digits_goal, nb201_goal

ISSUE_GOAL = """\
study: digits-demo
task: {name: digits}
objectives: {val_accuracy: max}
constraints: {params: {max: 200000}}
budget: {trials: 60, trial_timeout_s: 120}
search: {proposer: evolution, population: 16, seed: 0}
oversight: {promotion: auto}
"""


def test_the_issue_goal_loads_and_prepares(tmp_path: Path) -> None:
    path = tmp_path / "goal.yaml"
    path.write_text(ISSUE_GOAL)
    goal = load_goal(path)
    assert goal.study == "digits-demo" and goal.budget.trials == 60 and goal.search.population == 16
    setup = prepare(goal)
    assert setup.space.name == "macro"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"budget": None}, "budget: "),
        ({"budget": {"trials": 0}}, "budget.trials: "),
        ({"search": {"population": 1}}, "search.population: "),
        ({"search": {"population": 4, "tournament": 9}}, "tournament (9) cannot exceed population (4)"),
        ({"oversight": {"promotion": "sometimes"}}, "oversight.promotion: "),
        ({"objectives": {}}, "objectives: give at least one objective"),
        ({"preference": {"objective": "latency_ms"}}, "preference.objective: 'latency_ms' is not an objective"),
        ({"preference": {"weights": {"params": 1.0}}}, "preference.weights: 'params' is not an objective"),
        ({"preference": {}}, "preference: give either objective (with optional where) or weights"),
        ({"reference": {"params": 1.0}}, "reference: 'params' is not an objective"),
        ({"scheduler": {"eta": 4}}, "scheduler: eta is given, but name is none"),
        ({"scheduler": {"name": "asha", "brackets": 2}}, "scheduler: brackets is for hyperband"),
        ({"objectives": {"val_accuracy": "up"}}, "objectives.val_accuracy: "),
        ({"constraints": {"params": {"min": 5, "max": 1}}}, "constraints.params: min is larger than max"),
        ({"colour": "blue"}, "colour: unknown field"),
        ({"study": "has space"}, "study: "),
        ({"task": {"path": "x"}}, "task: needs a name"),
    ],
)
def test_a_bad_field_is_named(change: dict, message: str) -> None:
    data = nb201_goal()
    data.update(change)
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(GoalError) as info:
        goal_from_dict(data, "goal.yaml")
    assert message in str(info.value)
    assert str(info.value).startswith("goal.yaml: ")
    assert "\n" not in str(info.value)


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "goal.yaml"
    path.write_text("study: x\ntask: {name: digits\nbudget: 3\n")
    with pytest.raises(GoalError, match=r"goal.yaml: line \d+: not valid YAML"):
        load_goal(path)


def test_a_missing_goal_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(GoalError, match="goal file not found"):
        load_goal(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"task": {"name": "imagenet"}}, "task.name: unknown task 'imagenet'"),
        ({"task": {"name": "mnist", "path": "/no/such/folder"}}, "task.path: folder not found"),
        ({"task": {"name": "nasbench201", "path": "/no/such.csv"}}, "task.path: file not found"),
        ({"task": {"name": "digits", "colour": 1}}, "task.colour: "),
        ({"search": {"proposer": "bayes"}}, "search.proposer: unknown proposer 'bayes'"),
        ({"objectives": {"happiness": "max"}}, "objectives.happiness: task 'nasbench201' does not measure"),
        ({"constraints": {"flops": {"max": 1}}}, "constraints.flops: task 'nasbench201' does not measure"),
        ({"space": {"max_blocks": 3}}, "space.max_blocks: the NAS-Bench-201 space takes only distinct"),
        ({"space": {"distinct": "graphs"}}, "space.distinct: expected functions or cells, got 'graphs'"),
    ],
)
def test_semantic_errors_are_named_before_any_trial(change: dict, message: str) -> None:
    data = nb201_goal()
    data.update(change)
    with pytest.raises(GoalError) as info:
        prepare(goal_from_dict(data))
    assert message in str(info.value)


def test_a_constraint_no_design_can_meet_is_refused() -> None:
    goal = goal_from_dict(digits_goal(constraints={"params": {"max": 10}}))
    with pytest.raises(
        GoalError, match=r"constraints.params: no design can meet max 10; the smallest design in the space has 20"
    ):
        prepare(goal)


def test_bad_space_options_are_named() -> None:
    with pytest.raises(GoalError, match="space.kernels"):
        prepare(goal_from_dict(digits_goal(space={"kernels": [2]})))
    with pytest.raises(GoalError, match="space.depth: unknown field"):
        prepare(goal_from_dict(digits_goal(space={"depth": 3})))


def test_a_start_design_outside_the_space_is_named() -> None:
    goal = digits_goal()
    goal["search"]["start_from"] = {"arch": {}, "recipe": {}}
    with pytest.raises(GoalError, match="search.start_from: "):
        prepare(goal_from_dict(goal))


def test_score_is_signed_and_constraints_void_it() -> None:
    goal = goal_from_dict(nb201_goal(constraints={"params": {"max": 1000}}))
    assert goal.score({"val_accuracy": 0.9, "params": 10}) == 0.9
    assert goal.score({"val_accuracy": 0.9, "params": 5000}) is None
    minimize = goal_from_dict(nb201_goal(objectives={"latency_ms": "min"}))
    assert minimize.score({"latency_ms": 3.0}) == -3.0


def test_a_result_with_a_non_finite_objective_is_no_point_of_the_front() -> None:
    goal = goal_from_dict(nb201_goal(objectives={"val_accuracy": "max", "train_time_s": "min"}))
    assert goal.values({"val_accuracy": 0.9, "train_time_s": 2.0}) == (0.9, -2.0)
    assert goal.values({"val_accuracy": 0.9, "train_time_s": float("inf")}) is None  # e.g. a target never reached
    assert goal.values({"val_accuracy": float("nan"), "train_time_s": 2.0}) is None


@pytest.mark.parametrize(
    ("constraints", "message"),
    [
        ({"params": {"min": 1e12}}, "constraints.params: no design can meet min 1e+12; the largest design"),
        (
            {"val_accuracy": {"min": 1.5}},
            "constraints.val_accuracy: no design can meet it; val_accuracy lies in [0, 1]",
        ),
        ({"latency_ms": {"max": -1}}, "constraints.latency_ms: no design can meet it"),
    ],
)
def test_constraints_that_no_design_can_meet_are_refused_before_any_trial(constraints: dict, message: str) -> None:
    with pytest.raises(GoalError) as info:
        prepare(goal_from_dict(digits_goal(constraints=constraints)))
    assert message.split(" (")[0] in str(info.value)


def test_an_unreadable_start_design_file_is_named(tmp_path: Path) -> None:
    for text, message in (("{not json", "is not valid JSON"), ("[1, 2]", "holds no design")):
        path = tmp_path / "design.json"
        path.write_text(text)
        goal = digits_goal()
        goal["search"]["start_from"] = str(path)
        with pytest.raises(GoalError, match=f"search.start_from: .*{message}"):
            prepare(goal_from_dict(goal))


def test_an_export_card_can_be_a_start_design(tmp_path: Path) -> None:
    import json

    from tests.conftest import SMALL_DIGITS_GENES

    path = tmp_path / "card.json"
    path.write_text(json.dumps({"design": {"hash": "x", "space": "macro", "genes": SMALL_DIGITS_GENES}}))
    goal = digits_goal()
    goal["search"]["start_from"] = str(path)
    setup = prepare(goal_from_dict(goal))
    assert setup.start_from is not None and setup.start_from.genes == SMALL_DIGITS_GENES


def test_data_that_cannot_be_read_is_blamed_on_the_task_path(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b,label\n1,x,0\n")
    with pytest.raises(GoalError, match="task.path: cannot read the data: "):
        prepare(goal_from_dict(digits_goal(task={"name": "arrays", "path": str(path)}, space={})))


def test_a_corrupt_data_file_gets_one_line(tmp_path: Path) -> None:
    path = tmp_path / "data.npz"
    path.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(GoalError, match=r"^task.path: cannot read the data: File is not a zip file$"):
        prepare(goal_from_dict(digits_goal(task={"name": "arrays", "path": str(path)}, space={})))


def test_a_min_bound_some_designs_meet_is_accepted() -> None:
    prepare(goal_from_dict(digits_goal(constraints={"params": {"min": 44_490}}, space={})))


def test_every_example_goal_loads() -> None:
    from pathlib import Path

    from evoforge.goal import load_goal

    examples = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))
    assert examples
    for path in examples:
        assert load_goal(str(path)).study

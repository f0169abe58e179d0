"""Turning a validated goal into the pieces of a study, checking everything that can be checked before a trial."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from evoforge._errors import GoalError
from evoforge.design import Design
from evoforge.goal import Goal, Search
from evoforge.profiles import resolve
from evoforge.proposers import Proposer, make_proposer
from evoforge.schedulers import HyperbandScheduler
from evoforge.spaces import Space
from evoforge.tasks import Task, make_task, task_class, task_config


@dataclass(frozen=True)
class Setup:
    """A goal turned into the parts of a study, each checked: the task, its search space, the starting design and
    the search settings with the profile applied."""

    goal: Goal
    task: Task
    space: Space
    start_from: Design | None
    search: Search  # the goal's search section with its profile applied

    def proposer(self) -> Proposer:
        return make_proposer(self.search, self.space, self.start_from)


def _start_design(goal: Goal, space: Space) -> Design | None:
    raw = goal.search.start_from
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = _read_design_file(Path(raw))
    design = Design.make(space.name, raw)
    try:
        space.validate(design)
    except ValueError as exc:
        raise GoalError(f"search.start_from: {exc}") from None
    return design


def _read_design_file(path: Path) -> dict[str, Any]:
    """Genes from a JSON file: an export card, a design ({space, genes}) or the genes themselves."""
    if not path.is_file():
        raise GoalError(f"search.start_from: file not found: {path}")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GoalError(f"search.start_from: {path} is not valid JSON ({exc})") from None
    if isinstance(data, dict) and isinstance(data.get("design"), dict):
        data = data["design"]
    if isinstance(data, dict) and isinstance(data.get("genes"), dict):
        data = data["genes"]
    if not isinstance(data, dict):
        raise GoalError(f"search.start_from: {path} holds no design (expected a JSON object of genes)")
    return data


def rung_direction(goal: Goal) -> str:
    """How the scheduler's metric is judged: an objective's own direction; otherwise a loss is minimized."""
    metric = goal.scheduler.metric
    return goal.objectives.get(metric, "min" if metric in MINIMIZED_CURVE_METRICS else "max")


def rung_value(goal: Goal, metrics: dict[str, float]) -> float:
    """The value a scheduler judges at a rung: ``scheduler.metric``, oriented so that higher is better."""
    value = float(metrics[goal.scheduler.metric])
    return value if rung_direction(goal) == "max" else -value


def _metrics_from_goal(goal: Goal) -> Goal:
    """For a task whose metrics are the user's (``metrics_from_goal``), the goal's objective, constraint and
    preference names become its ``metrics`` option when the goal does not give it (the stored goal then says it,
    and worker processes build the same task)."""
    if "metrics" in goal.task or not task_class(str(goal.task["name"])).metrics_from_goal:
        return goal
    where = goal.preference.where if goal.preference else {}
    names = list(dict.fromkeys([*goal.objectives, *goal.constraints, *where]))
    return goal.model_copy(update={"task": {**goal.task, "metrics": names}})


def _check_metrics(goal: Goal, task: Task) -> None:
    known = ", ".join(sorted(task.metrics))
    where = goal.preference.where if goal.preference else {}
    for section, names in (
        ("objectives", goal.objectives),
        ("constraints", goal.constraints),
        ("preference.where", where),
    ):
        for name in names:
            if name == "time_to_accuracy_s" and goal.evaluation.target_accuracy is None:
                raise GoalError(f"{section}.{name}: set evaluation.target_accuracy, the accuracy to time")
            if name not in task.metrics:
                raise GoalError(
                    f"{section}.{name}: task {task.name!r} does not measure {name!r} (it measures: {known})"
                )
    if goal.budget.energy_j is not None and "energy_j" not in task.metrics:
        raise GoalError(f"budget.energy_j: task {task.name!r} does not measure energy_j (it measures: {known})")


# Values a metric can take at all; a bound outside them can never be met.
_RANGES = {"val_accuracy": (0.0, 1.0)}


def _check_range(goal: Goal) -> None:
    for metric, bound in goal.constraints.items():
        low, high = _RANGES.get(metric, (0.0, float("inf")))
        if (bound.min is not None and bound.min > high) or (bound.max is not None and bound.max < low):
            raise GoalError(f"constraints.{metric}: no design can meet it; {metric} lies in [{low:g}, {high:g}]")


def _check_meetable(goal: Goal, space: Space) -> None:
    """Refuse static bounds (params, flops) that provably no design meets: a max below the smallest design's value,
    or a min above the largest design's."""
    for which, design in (("max", space.smallest()), ("min", space.largest())):
        if design is None or not any(getattr(b, which) is not None for b in goal.constraints.values()):
            continue
        static = space.static_metrics(design)
        for m, bound in goal.constraints.items():
            limit = getattr(bound, which)
            if m in static and limit is not None and bound.violation(m, static[m]):
                extreme = "smallest" if which == "max" else "largest"
                raise GoalError(
                    f"constraints.{m}: no design can meet {which} {limit:,.6g}; the {extreme} design in the space "
                    f"has {static[m]:,.6g}"
                )


MINIMIZED_CURVE_METRICS = {"val_loss"}


def _check_schedule(goal: Goal, task: Task, space: Space) -> None:
    s = goal.scheduler
    if s.name == "none":
        return
    from evoforge.schedulers import SCHEDULER_PARTS

    SCHEDULER_PARTS.load(s.name)  # raises naming the known schedulers
    if task.reports:  # it reports from inside its runs, at steps of its own: any rung schedule applies
        if s.metric not in goal.objectives:
            raise GoalError(f"scheduler.metric: {s.metric!r} is not an objective; the trials report their objective")
        return
    if s.metric not in task.curve_metrics:
        known = ", ".join(sorted(task.curve_metrics))
        raise GoalError(f"scheduler.metric: task {task.name!r} does not report {s.metric!r} during training ({known})")
    if goal.budget.trials < s.eta:
        raise GoalError(f"scheduler.eta: {s.eta} is more than the {goal.budget.trials} trials of the budget")
    rng = random.Random(0)
    fidelities = max((task.fidelities(space.sample(rng)) for _ in range(200)), key=lambda f: f[-1] if f else 0)
    longest = fidelities[-1] if fidelities else 0
    if s.min_epochs >= longest:
        raise GoalError(
            f"scheduler.min_epochs: the first rung ({s.min_epochs} epochs) is not before the end of the longest "
            f"training in the space ({longest} epochs), so nothing could be stopped early"
        )
    if s.name == "hyperband":
        # A bracket is useful while its first stop (rungs snapped to what the task can report) comes before the
        # end; one more bracket may train everything to the end, as Hyperband's most cautious bracket does.
        scheduler = HyperbandScheduler(s.min_epochs, s.eta, s.brackets)
        useful = 1 + sum(len(b.stops(0, fidelities)) > 1 for b in scheduler.brackets)
        if s.brackets > useful:
            raise GoalError(
                f"scheduler.brackets: past {useful} brackets the first stop lies at the end of the longest training "
                f"in the space ({longest} epochs, reports at {_epochs(fidelities)}), so more brackets would all train "
                f"to the end; use at most {useful}"
            )


def _epochs(fidelities: list[int]) -> str:
    return ", ".join(map(str, fidelities)) if len(fidelities) <= 6 else f"{fidelities[0]} .. {fidelities[-1]}"


def prepare(goal: Goal, task: Task | None = None) -> Setup:
    """Build the task (unless ``task`` is given: then the goal's ``task`` section becomes the one that builds it
    again in worker processes), space and starting design of ``goal``, or raise ``GoalError`` naming what is wrong."""
    if task is None:
        goal = _metrics_from_goal(goal)
        task = make_task(goal.task)
    else:
        goal = goal.model_copy(update={"task": task_config(task)})
    _check_metrics(goal, task)
    _check_range(goal)
    try:
        task.load()
    except Exception as exc:  # any reader's error (zip, pickle, parse, ...) is a problem with the data file
        detail = (str(exc).splitlines() or [type(exc).__name__])[0].removeprefix("task.path: ")
        raise GoalError(f"task.path: cannot read the data: {detail}") from None
    try:
        space = task.space(goal.space)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"].removeprefix("Value error, ")
        if not where and ": " in message:  # a model-level check names its field first: "kernels: ..."
            where, message = message.split(": ", 1)
        raise GoalError(f"space{'.' + where if where else ''}: {message}") from None
    except ValueError as exc:
        raise GoalError(str(exc) if str(exc).startswith("space") else f"space: {exc}") from None
    search = resolve(goal.search)
    if search.transfer_from and space.waiting:
        raise GoalError("search.transfer_from: this space is learned as the study runs; transfer needs a fixed space")
    _check_meetable(goal, space)
    _check_schedule(goal, task, space)
    setup = Setup(goal, task, space, _start_design(goal, space), search)
    try:
        if search.proposer == "guided":
            space.features(space.sample(random.Random(0)))  # the predictor needs an encoding of the space
        setup.proposer()
    except NotImplementedError as exc:
        raise GoalError(f"search.proposer: {search.proposer} needs a predictor encoding, but {exc}") from None
    except (ValueError, TypeError) as exc:
        raise GoalError(f"search.options: {exc}") from None
    return setup

"""Turning a validated goal into the pieces of a study, checking everything that can be checked before a trial."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from evoforge._errors import GoalError
from evoforge.design import Design
from evoforge.goal import Goal
from evoforge.proposers import Proposer, make_proposer
from evoforge.spaces import Space
from evoforge.tasks import Task, make_task


@dataclass(frozen=True)
class Setup:
    goal: Goal
    task: Task
    space: Space
    start_from: Design | None

    def proposer(self) -> Proposer:
        s = self.goal.search
        return make_proposer(
            s.proposer,
            self.space,
            seed=s.seed,
            population=s.population,
            tournament=s.tournament,
            start_from=self.start_from,
        )


def _start_design(goal: Goal, space: Space) -> Design | None:
    raw = goal.search.start_from
    if raw is None:
        return None
    if isinstance(raw, str):
        path = Path(raw)
        if not path.is_file():
            raise GoalError(f"search.start_from: file not found: {raw}")
        data = json.loads(path.read_text())
        raw = data.get("design", data).get("genes", data)
    design = Design.make(space.name, raw)  # type: ignore[arg-type]
    try:
        space.validate(design)
    except ValueError as exc:
        raise GoalError(f"search.start_from: {exc}") from None
    return design


def _check_metrics(goal: Goal, task: Task) -> None:
    known = ", ".join(sorted(task.metrics))
    for section, names in (("objectives", goal.objectives), ("constraints", goal.constraints)):
        for name in names:
            if name not in task.metrics:
                raise GoalError(
                    f"{section}.{name}: task {task.name!r} does not measure {name!r} (it measures: {known})"
                )


def _check_meetable(goal: Goal, space: Space) -> None:
    smallest = space.smallest()
    if smallest is None or not goal.constraints:
        return
    for metric, value in space.static_metrics(smallest).items():
        bound = goal.constraints.get(metric)
        if bound is not None and bound.max is not None and value > bound.max:
            raise GoalError(
                f"constraints.{metric}: no design can meet max {bound.max:,.6g}; the smallest design in "
                f"the space has {value:,.6g}"
            )


def prepare(goal: Goal) -> Setup:
    """Build the task, space and starting design of ``goal``, or raise ``GoalError`` naming what is wrong."""
    task = make_task(goal.task)
    _check_metrics(goal, task)
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
    if goal.search.proposer not in ("evolution", "random"):
        raise GoalError(f"search.proposer: unknown proposer {goal.search.proposer!r} (known: evolution, random)")
    _check_meetable(goal, space)
    return Setup(goal, task, space, _start_design(goal, space))

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from evoforge._errors import GoalError
from evoforge._registry import load_class
from evoforge.tasks._base import Task

# name -> "module:Class", imported only when used.
TASKS = {
    "digits": "evoforge.tasks._digits:DigitsTask",
    "mnist": "evoforge.tasks._mnist:MnistTask",
    "arrays": "evoforge.tasks._arrays:ArraysTask",
    "nasbench201": "evoforge.tasks._nasbench201:NB201Task",
    "search_benchmark": "evoforge.meta._task:SearchBenchmarkTask",
    "optimizer_discovery": "evoforge.tasks._optimizer_discovery:OptimizerDiscoveryTask",
    "user_code": "evoforge.tasks._user_code:UserCodeTask",
}


def task_class(name: str) -> type[Task]:
    return load_class(TASKS, name, "task.name", "task")  # type: ignore[no-any-return]


def make_task(config: dict[str, Any]) -> Task:
    """Build a task from the goal's ``task`` section ({name, ...options}); errors name the bad field."""
    config = dict(config)
    cls = task_class(str(config.pop("name", "")))
    try:
        options = cls.Options(**config)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise GoalError(f"task.{where}: {err['msg']}") from None
    try:
        return cls(options)  # type: ignore[call-arg]
    except ValueError as exc:
        raise GoalError(str(exc)) from None

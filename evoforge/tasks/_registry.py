from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from evoforge._errors import GoalError
from evoforge._registry import Registry
from evoforge.tasks._base import Task

# name -> "module:Class", imported only when used. Goals may also name any Task subclass by import path
# ("package.module:Class") or by an entry point an installed package registers in the group ``evoforge.tasks``.
TASKS = {
    "digits": "evoforge.tasks._digits:DigitsTask",
    "mnist": "evoforge.tasks._mnist:MnistTask",
    "arrays": "evoforge.tasks._arrays:ArraysTask",
    "images": "evoforge.tasks._images:ImagesTask",
    "nasbench201": "evoforge.tasks._nasbench201:NB201Task",
    "search_benchmark": "evoforge.meta._task:SearchBenchmarkTask",
    "optimizer_discovery": "evoforge.tasks._optimizer_discovery:OptimizerDiscoveryTask",
    "user_code": "evoforge.tasks._user_code:UserCodeTask",
    "python": "evoforge.objective._task:PythonTask",
}
TASK_PARTS = Registry("task", "task.name", Task, TASKS)


def task_class(name: str) -> type[Task]:
    return TASK_PARTS.load(name)  # type: ignore[return-value]


def make_task(config: dict[str, Any]) -> Task:
    """Build a task from the goal's ``task`` section ({name, ...options}); errors name the bad field."""
    config = dict(config)
    cls = task_class(str(config.pop("name", "")))
    try:
        options = cls.Options(**config)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        raise GoalError(f"task.{where}: {message}") from None
    try:
        return cls(options)  # type: ignore[call-arg]
    except ValueError as exc:
        raise GoalError(str(exc)) from None


def task_config(task: Task) -> dict[str, Any]:
    """The goal's ``task`` section that builds ``task`` again (in a worker process, on resume): its name and the
    options it was built from."""
    options = getattr(task, "options", None)
    values = options.model_dump(mode="json", exclude_defaults=True) if options is not None else {}
    return {"name": TASK_PARTS.name_of(type(task)), **values}

"""Tasks: data with fixed train / validation / test splits, and how a design is evaluated on them."""

from evoforge.tasks._base import EvalSettings, Task, TaskOptions, TrialResult
from evoforge.tasks._registry import TASKS, make_task, task_class
from evoforge.tasks._trained import Splits, TrainedTask

__all__ = [
    "TASKS",
    "EvalSettings",
    "Splits",
    "Task",
    "TaskOptions",
    "TrainedTask",
    "TrialResult",
    "make_task",
    "task_class",
]

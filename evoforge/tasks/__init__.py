"""Tasks: data with fixed train / validation / test splits, and how a design is evaluated on them."""

from evoforge.tasks._base import EvalSettings, HeldOut, RunContext, Task, TaskOptions, TrialResult
from evoforge.tasks._registry import TASK_PARTS, TASKS, make_task, task_class, task_config
from evoforge.tasks._trained import Splits, TrainedTask

__all__ = [
    "TASKS",
    "TASK_PARTS",
    "EvalSettings",
    "HeldOut",
    "RunContext",
    "Splits",
    "Task",
    "TaskOptions",
    "TrainedTask",
    "TrialResult",
    "make_task",
    "task_class",
    "task_config",
]

"""Executors decide where jobs run: in this process, in a pool of isolated worker processes, or on Ray."""

from evoforge.executors._base import Executor, Job, Outcome
from evoforge.executors._inline import InlineExecutor
from evoforge.executors._pool import ExecutorError, LocalPool
from evoforge.executors._registry import EXECUTOR_PARTS, EXECUTORS, make_executor

__all__ = [
    "EXECUTORS",
    "EXECUTOR_PARTS",
    "Executor",
    "ExecutorError",
    "InlineExecutor",
    "Job",
    "LocalPool",
    "Outcome",
    "make_executor",
]

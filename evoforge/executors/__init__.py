"""Executors decide where jobs run: in this process, or in a pool of isolated worker processes."""

from evoforge.executors._base import Executor, Job, Outcome
from evoforge.executors._inline import InlineExecutor
from evoforge.executors._pool import ExecutorError, LocalPool

__all__ = ["Executor", "ExecutorError", "InlineExecutor", "Job", "LocalPool", "Outcome"]

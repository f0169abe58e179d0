"""Executors decide where jobs run: in this process, or in a pool of isolated worker processes."""

from evoforge.executors._base import Executor, Job, Outcome
from evoforge.executors._inline import InlineExecutor
from evoforge.executors._pool import LocalPool

__all__ = ["Executor", "InlineExecutor", "Job", "LocalPool", "Outcome"]

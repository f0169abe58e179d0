from __future__ import annotations

import time
import traceback

from evoforge.executors._base import Executor, Job, Outcome, call


class InlineExecutor(Executor):
    """Runs each job in the calling process when ``wait`` is called: no isolation and no timeouts.

    For tabular tasks, debugging and measuring the coordinator's own overhead; use the local pool for training.
    Jobs with CPU-time or memory caps are refused: capping this process would cap (or kill) the caller.
    """

    def __init__(self, capacity: int = 1) -> None:
        self.capacity = capacity
        self._queue: list[Job] = []

    def submit(self, job: Job) -> None:
        if job.cpu_s is not None or job.memory_mb is not None:
            raise ValueError("per-job CPU-time and memory caps need worker processes (use 1 or more workers)")
        if len(self._queue) >= self.capacity:
            raise RuntimeError("executor is full")
        self._queue.append(job)

    @property
    def running(self) -> int:
        return len(self._queue)

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        out = []
        for job in self._queue:
            start = time.time()
            try:
                value = call(job.fn, job.payload)  # what crosses to a worker and back, as it would cross
                out.append(Outcome(job.key, True, value, None, start, time.time()))
            except Exception:
                out.append(Outcome(job.key, False, None, traceback.format_exc(), start, time.time()))
        self._queue.clear()
        return out

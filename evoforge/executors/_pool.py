from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from evoforge._errors import EvoforgeError
from evoforge.executors._base import Executor, Job, Outcome
from evoforge.executors._worker import worker_main

MAX_START_FAILURES = 3


class ExecutorError(EvoforgeError):
    """The executor cannot run jobs at all (e.g. every new worker dies before its first job)."""


@dataclass
class _Slot:
    process: BaseProcess
    conn: Connection
    job: Job | None = None
    started_at: float | None = None
    alive_once: bool = False  # the worker has run at least one job: it got through start-up


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class LocalPool(Executor):
    """A pool of long-lived worker processes, one job each at a time, isolated from the caller.

    A job that raises comes back with its traceback. A job whose worker dies (segfault, out of memory, ``kill``)
    or that runs past ``timeout_s`` comes back failed with the reason; its worker is killed with its whole process
    group and replaced. Workers are started with ``spawn`` so no state of the caller leaks into them, and they die
    with the caller.
    """

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError("workers: expected at least 1")
        self.capacity = workers
        self._ctx = mp.get_context("spawn")
        self._start_failures = 0
        self._slots = [self._start() for _ in range(workers)]

    def _start(self) -> _Slot:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=worker_main, args=(child, os.getpid()), daemon=True, name="evoforge-worker")
        process.start()
        child.close()
        return _Slot(process, parent)

    @property
    def running(self) -> int:
        return sum(s.job is not None for s in self._slots)

    def submit(self, job: Job) -> None:
        idle = next((s for s in self._slots if s.job is None), None)
        if idle is None:
            raise RuntimeError("executor is full")
        index = self._slots.index(idle)
        if not idle.process.is_alive():  # died while idle (e.g. the OOM killer): start a fresh one first
            self._kill(idle)
            idle = self._slots[index] = self._start()
        idle.job, idle.started_at = job, None
        try:
            idle.conn.send(job)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            self._kill(idle)
            idle = self._slots[index] = self._start()
            idle.job = job
            idle.conn.send(job)

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            outcomes = self._poll(self._wait_time(deadline))
            if outcomes or self.running == 0 or (deadline is not None and time.monotonic() >= deadline):
                return outcomes

    def _wait_time(self, deadline: float | None) -> float | None:
        limits = [
            s.started_at + s.job.timeout_s - time.time()
            for s in self._slots
            if s.job is not None and s.job.timeout_s is not None and s.started_at is not None
        ]
        if deadline is not None:
            limits.append(deadline - time.monotonic())
        return max(0.0, min(limits)) if limits else None

    def _poll(self, timeout: float | None) -> list[Outcome]:
        busy = [s for s in self._slots if s.job is not None]
        handles = [s.conn for s in busy] + [s.process.sentinel for s in busy]
        ready = set(wait(handles, timeout)) if busy else set()
        outcomes: list[Outcome] = []
        for i, slot in enumerate(self._slots):
            if slot.job is None:
                continue
            if slot.conn in ready:
                outcome = self._receive(slot)
            elif slot.process.sentinel in ready:
                outcome = self._replace(i, None)
            elif slot.started_at and slot.job.timeout_s and time.time() - slot.started_at > slot.job.timeout_s:
                outcome = self._replace(i, f"timed out after {slot.job.timeout_s:g} s; worker killed and replaced")
            else:
                continue
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    def _receive(self, slot: _Slot) -> Outcome | None:
        assert slot.job is not None
        try:
            message = slot.conn.recv()
        except (EOFError, OSError):
            return self._replace(self._slots.index(slot), None)
        if message[0] == "started":
            slot.started_at, slot.alive_once = message[2], True
            return None
        job, slot.job = slot.job, None
        ok = message[0] == "ok"
        return Outcome(job.key, ok, message[2] if ok else None, None if ok else message[2], slot.started_at, message[3])

    def _replace(self, index: int, reason: str | None) -> Outcome:
        """Kill and replace a worker; ``reason`` None means it died by itself, and its exit status says how."""
        slot = self._slots[index]
        assert slot.job is not None
        if reason is None:
            slot.process.join(timeout=5)
            reason = f"worker process died ({_describe_exit(slot.process.exitcode)})"
            self._start_failures = 0 if slot.alive_once else self._start_failures + 1
            if self._start_failures >= MAX_START_FAILURES:
                raise ExecutorError(
                    f"worker processes die during start-up ({_describe_exit(slot.process.exitcode)}, "
                    f"{self._start_failures} in a row); their error output is above"
                )
        self._kill(slot)
        self._slots[index] = self._start()
        return Outcome(slot.job.key, False, None, reason, slot.started_at, time.time())

    @staticmethod
    def _kill(slot: _Slot) -> None:
        if slot.process.is_alive():
            try:
                os.killpg(slot.process.pid, signal.SIGKILL)  # type: ignore[arg-type]
            except (ProcessLookupError, PermissionError, AttributeError):
                slot.process.kill()
        slot.process.join(timeout=10)
        slot.conn.close()

    def shutdown(self) -> None:
        for slot in self._slots:
            if slot.job is None and slot.process.is_alive():
                with contextlib.suppress(OSError):
                    slot.conn.send(None)
        for slot in self._slots:
            slot.process.join(timeout=2 if slot.job is None else 0)
            self._kill(slot)
        self._slots = []

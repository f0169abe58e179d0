from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from evoforge import _codec
from evoforge._errors import EvoforgeError
from evoforge.executors._base import Executor, Job, Outcome, encode_job
from evoforge.executors._worker import worker_main

MAX_START_FAILURES = 3
MEMORY_POLL_S = 0.2  # how often the resident memory of a job with a memory cap is read
PROC = Path("/proc")


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


def _check_caps(job: Job) -> None:
    if job.cpu_s is not None and sys.platform == "win32":
        raise ValueError("per-job CPU-time caps need POSIX resource limits (RLIMIT_CPU), which Windows lacks")
    if job.memory_mb is not None and not (sys.platform.startswith("linux") and (PROC / "self" / "status").exists()):
        raise ValueError("per-job memory caps need Linux's /proc to read resident memory; this system has none")


def _resident_kib(pid: int) -> int:
    """VmRSS of ``pid`` in KiB, 0 if it is gone (or a zombie, which has none)."""
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):  # the process ended while we looked
        for task in (PROC / str(pid) / "task").iterdir():
            with contextlib.suppress(OSError):  # this thread ended while we looked
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def _tree_resident_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MiB."""
    total, todo, seen = 0, [pid], set[int]()
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            total += _resident_kib(current)
            todo += _children(current)
    return total / 1024


class LocalPool(Executor):
    """A pool of long-lived worker processes, one job each at a time, isolated from the caller.

    A job that raises comes back with its traceback. A job whose worker dies (segfault, out of memory, ``kill``)
    or that runs past ``timeout_s`` comes back failed with the reason; its worker is killed with its whole process
    group and replaced. Workers are started with ``spawn`` so no state of the caller leaks into them, and they die
    with the caller.

    Caps: ``cpu_s`` is an ``RLIMIT_CPU`` set in the worker for the job, whose SIGXCPU kills the worker;
    ``memory_mb`` is checked here, reading the worker's process tree from /proc every ``MEMORY_POLL_S`` seconds
    while ``wait`` runs, so a job can overshoot its cap briefly (or between calls to ``wait``) before it is killed.
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
        _check_caps(job)
        idle = next((s for s in self._slots if s.job is None), None)
        if idle is None:
            raise RuntimeError("executor is full")
        index = self._slots.index(idle)
        if not idle.process.is_alive():  # died while idle (e.g. the OOM killer): start a fresh one first
            self._kill(idle)
            idle = self._slots[index] = self._start()
        idle.job, idle.started_at = job, None
        data = encode_job(job)  # JSON values and bytes: raises TypeError for anything else, before it is sent
        try:
            idle.conn.send_bytes(data)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            self._kill(idle)
            idle = self._slots[index] = self._start()
            idle.job = job
            idle.conn.send_bytes(data)

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
        if any(s.job is not None and s.job.memory_mb is not None for s in self._slots):
            limits.append(MEMORY_POLL_S)
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
            elif reason := self._overrun(slot):
                outcome = self._replace(i, reason)
            else:
                continue
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes

    @staticmethod
    def _overrun(slot: _Slot) -> str | None:
        """Why a running job must be stopped now (its timeout or memory cap), or None."""
        job = slot.job
        if job is None or slot.started_at is None:
            return None
        if job.timeout_s and time.time() - slot.started_at > job.timeout_s:
            return f"timed out after {job.timeout_s:g} s; worker killed and replaced"
        if job.memory_mb is not None and slot.process.pid is not None:
            resident = _tree_resident_mb(slot.process.pid)
            if resident > job.memory_mb:
                return (
                    f"memory cap of {job.memory_mb:g} MB exceeded (resident {resident:.0f} MB); "
                    "worker killed and replaced"
                )
        return None

    def _receive(self, slot: _Slot) -> Outcome | None:
        assert slot.job is not None
        try:
            message = _codec.unpack(slot.conn.recv_bytes())
        except (EOFError, OSError, ValueError):  # gone, or what came back is not a message (a dying worker's)
            return self._replace(self._slots.index(slot), None)
        if message[0] == "started":
            slot.started_at, slot.alive_once = message[2], True
            return None
        job, slot.job = slot.job, None
        ok = message[0] == "ok"
        finished = message[3] or time.time()
        return Outcome(job.key, ok, message[2] if ok else None, None if ok else message[2], slot.started_at, finished)

    def _replace(self, index: int, reason: str | None) -> Outcome:
        """Kill and replace a worker; ``reason`` None means it died by itself, and its exit status says how."""
        slot = self._slots[index]
        assert slot.job is not None
        lost = reason is None
        if reason is None:
            reason = self._death_reason(slot)
            lost = not reason.startswith("CPU-time cap")  # its own cap is the job's doing, not bad luck
        self._kill(slot)
        self._slots[index] = self._start()
        return Outcome(slot.job.key, False, None, reason, slot.started_at, time.time(), lost=lost)

    def _death_reason(self, slot: _Slot) -> str:
        assert slot.job is not None
        slot.process.join(timeout=5)
        code = slot.process.exitcode
        if slot.job.cpu_s is not None and code == -signal.SIGXCPU:
            self._start_failures = 0  # the job was running, so the worker had started
            return f"CPU-time cap of {slot.job.cpu_s:g} s exceeded; worker killed and replaced"
        self._start_failures = 0 if slot.alive_once else self._start_failures + 1
        if self._start_failures >= MAX_START_FAILURES:
            raise ExecutorError(
                f"worker processes die during start-up ({_describe_exit(code)}, "
                f"{self._start_failures} in a row); their error output is above"
            )
        return f"worker process died ({_describe_exit(code)})"

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
                    slot.conn.send_bytes(b"")
        for slot in self._slots:
            slot.process.join(timeout=2 if slot.job is None else 0)
            self._kill(slot)
        self._slots = []

"""The loop of one long-lived worker process of the local pool. Runs jobs one at a time, sends results back."""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from multiprocessing.connection import Connection

from evoforge import _codec
from evoforge.executors._base import decode_job, resolve


def _die_with_parent(parent_pid: int) -> None:
    # A coordinator killed with SIGKILL cannot stop its workers; make the kernel do it (Linux), and poll as a
    # fallback elsewhere, so no orphan keeps training for nobody.
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


@contextlib.contextmanager
def _cpu_cap(cpu_s: float | None) -> Iterator[None]:
    """Hold the job to ``cpu_s`` more CPU seconds: past them the kernel sends SIGXCPU, which kills the worker."""
    if cpu_s is None:
        yield
        return
    import resource  # POSIX only; the pool refuses CPU caps where it is missing

    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    # RLIMIT_CPU counts the worker's whole life in whole seconds, so the job's budget starts from what is spent.
    limit = math.ceil(usage.ru_utime + usage.ru_stime + cpu_s)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def worker_main(conn: Connection, parent_pid: int) -> None:
    if hasattr(os, "setpgrp"):
        os.setpgrp()  # own process group: a timeout kills the job's children too, and ^C reaches the coordinator
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent_pid)
    while True:
        try:
            data = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not data:  # the pool's word to stop
            return
        job = decode_job(data)
        conn.send_bytes(_codec.pack(["started", job.key, time.time()]))
        try:
            fn = resolve(job.fn)  # imports (torch, the task's module) before the cap: start-up is not the job's
            with _cpu_cap(job.cpu_s):
                value = fn(job.payload)
            message = ["ok", job.key, value, time.time()]
        except BaseException:
            message = ["error", job.key, traceback.format_exc(), time.time()]
        try:
            packed = _codec.pack(message)
        except TypeError as exc:  # the value is not JSON values and bytes: it cannot cross (nothing is pickled)
            packed = _codec.pack(["error", job.key, f"the job's value cannot go back to the coordinator: {exc}", 0.0])
        conn.send_bytes(packed)

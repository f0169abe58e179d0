"""The loop of one long-lived worker process of the local pool. Runs jobs one at a time, sends results back."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection

from evoforge.executors._base import resolve


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


def worker_main(conn: Connection, parent_pid: int) -> None:
    if hasattr(os, "setpgrp"):
        os.setpgrp()  # own process group: a timeout kills the job's children too, and ^C reaches the coordinator
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent_pid)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(("started", job.key, time.time()))
        try:
            value = resolve(job.fn)(job.payload)
            message = ("ok", job.key, value, time.time())
        except BaseException:
            message = ("error", job.key, traceback.format_exc(), time.time())
        try:
            conn.send(message)
        except Exception:
            conn.send(("error", job.key, "result could not be sent back:\n" + traceback.format_exc(), time.time()))

"""Reading and ending a run's processes through Linux's /proc."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import time
from pathlib import Path

PROC = Path("/proc")


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (of all its threads); [] if it is gone."""
    found: list[int] = []
    with contextlib.suppress(OSError):  # the process ended while we looked
        for task in (PROC / str(pid) / "task").iterdir():
            with contextlib.suppress(OSError):  # this thread ended while we looked
                found += [int(child) for child in (task / "children").read_text().split()]
    return found


def descendants(pid: int) -> list[int]:
    """Every process below ``pid``, parents before their children."""
    found, todo = [], children(pid)
    while todo:
        current = todo.pop(0)
        if current not in found:
            found.append(current)
            todo += children(current)
    return found


def resident_mb(pids: list[int]) -> float:
    """Resident memory of ``pids`` together in MiB (a process that is gone counts 0)."""
    total_kib = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            for line in (PROC / str(pid) / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
    return total_kib / 1024


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name: state, ppid, pgrp, session, ... ([] if gone)."""
    try:
        return (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie counts as ended)."""
    fields = _stat(pid)
    return bool(fields) and fields[0] not in ("Z", "X")


def session_members(session: int) -> list[int]:
    """Live processes of the session ``session`` (the run's launcher starts one)."""
    found = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if len(fields) > 3 and fields[3] == str(session) and fields[0] not in ("Z", "X"):
                found.append(int(entry.name))
    return found


def kill(pids: list[int]) -> None:
    """SIGKILL each of ``pids`` that still exists."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def reap(pid: int, timeout_s: float) -> tuple[int, resource.struct_rusage] | None:
    """Wait up to ``timeout_s`` for our child ``pid`` to end: (wait status, resource use), or None if it runs on."""
    deadline = time.monotonic() + timeout_s
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            return status, usage
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.005)

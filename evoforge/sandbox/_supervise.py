"""Launching the sandbox launcher for one run, watching it against its limits, killing it, reading its result."""

from __future__ import annotations

import marshal
import math
import os
import resource
import select
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import IO, Any

from evoforge.sandbox import _procs
from evoforge.sandbox._result import Limits, SandboxResult, judge, parse_metrics

LAUNCHER = Path(__file__).with_name("_launch.py")
POLL_S = 0.05  # how often wall time and resident memory are checked
KILL_GRACE_S = 2.0  # how long the launcher gets to report its namespace's end after its init was killed
UID_BASE = 1_800_000_000  # root runs the code as this + the launcher's pid: a uid of its own, below 2**31
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the evoforge package


def _needed_paths() -> list[str]:
    """What every run reads: the interpreter and its standard library, this environment, the evoforge package."""
    paths = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable)), str(PACKAGE_ROOT)]
    paths += [sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib")]
    return list(dict.fromkeys(os.path.realpath(p) for p in paths))


def _homes() -> list[str]:
    return list(dict.fromkeys(p for p in ("/root", "/home", os.path.expanduser("~")) if os.path.isdir(p)))


class Run:
    """One launched run, watched until it ends or is killed."""

    def __init__(
        self,
        argv: list[str],
        workdir: str,
        limits: Limits,
        env: dict[str, str],
        readable: Collection[str],
        namespaces: bool = True,
    ) -> None:
        self.limits = limits
        self.report: dict[str, Any] | None = None
        # Files, not pipes: nothing to drain while we watch. _tail closes them.
        self.out, self.err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115
        needed = _needed_paths() + ([argv[0]] if os.path.isabs(argv[0]) else [])
        config = {
            "argv": argv, "workdir": workdir, "needed": needed, "hide": _homes(), "uid_base": UID_BASE,
            "keep": needed + [os.path.realpath(p) for p in readable], "processes": limits.processes,
            "cpu_s": None if limits.cpu_s is None else math.ceil(limits.cpu_s), "file_mb": limits.file_mb,
            "data_mb": None if limits.memory_mb is None else 2 * limits.memory_mb + 1024, "namespaces": namespaces,
            "parent": os.getpid(),
        }  # fmt: skip
        self.report_fd, report_w = os.pipe()
        config["report_fd"] = report_w
        self.start = time.monotonic()
        try:
            launcher = [sys.executable, "-I", "-S", str(LAUNCHER), marshal.dumps(config).hex()]
            self.proc = subprocess.Popen(
                launcher, cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err,
                pass_fds=(report_w,), start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(report_w)

    def finish(self) -> SandboxResult:
        """Wait for the end (killing the run past a limit), collect what it left, clean up."""
        try:
            status, usage, verdict = self._watch()
        except BaseException:  # e.g. KeyboardInterrupt in the caller: the run must not outlive it
            self._kill()
            raise
        wall_s = time.monotonic() - self.start
        returncode = self.proc.returncode = os.waitstatus_to_exitcode(status)
        stdout, stderr = _tail(self.out, self.limits.output_kb), _tail(self.err, self.limits.output_kb)
        report = self._read_report(block=True)
        os.close(self.report_fd)
        if verdict is None:
            verdict = judge(returncode, usage.ru_utime + usage.ru_stime, stderr, self.limits)
        network = bool(report.get("namespaces"))
        return SandboxResult(*verdict, returncode, stdout, stderr, parse_metrics(stdout), wall_s, network)

    def _watch(self) -> tuple[int, resource.struct_rusage, tuple[str, str] | None]:
        """(wait status, resource use, (status, reason) when we killed it) of the launcher, once it has ended."""
        pid = self.proc.pid
        poller = select.poll()
        poller.register(self.report_fd, select.POLLIN)
        pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None  # wakes us the moment it ends
        if pidfd is not None:
            poller.register(pidfd, select.POLLIN)
        try:
            while True:
                done, status, usage = os.wait4(pid, os.WNOHANG)
                if done:
                    return status, usage, None
                verdict = self._overrun()
                if verdict is not None:
                    return (*self._kill(), verdict)
                left = self.start + self.limits.wall_s - time.monotonic()
                for fd, _ in poller.poll(1000 * max(0.0, min(POLL_S, left))):
                    if fd == self.report_fd:
                        self._read_report(block=False)
                        poller.unregister(fd)
        finally:
            if pidfd is not None:
                os.close(pidfd)

    def _overrun(self) -> tuple[str, str] | None:
        limits = self.limits
        if time.monotonic() - self.start >= limits.wall_s:
            return "timeout", f"wall-time limit of {limits.wall_s:g} s reached"
        if limits.memory_mb is not None:
            pids = _procs.descendants(self.proc.pid)
            if self._read_report(block=False).get("namespaces"):  # the namespace's init is the launcher's copy
                pids = pids[1:]
            resident = _procs.resident_mb(pids)
            if resident > limits.memory_mb:
                return "memory", f"memory limit of {limits.memory_mb} MB exceeded (resident {resident:.0f} MB)"
        return None

    def _kill(self) -> tuple[int, resource.struct_rusage]:
        """SIGKILL every process of the run; returns once they are all gone."""
        pid = self.proc.pid
        deadline = time.monotonic() + KILL_GRACE_S
        if self._read_report(block=True, timeout_s=KILL_GRACE_S).get("namespaces"):
            while time.monotonic() < deadline:  # init first: the kernel then ends everything in its namespace
                _procs.kill(_procs.descendants(pid))
                ended = _procs.reap(pid, 0.05)  # the launcher ends once its namespace is empty
                if ended is not None:
                    return ended
        while True:  # no PID namespace: the tree and the session, until none is left (or we give up)
            _procs.kill([pid, *_procs.descendants(pid), *_procs.session_members(pid)])
            time.sleep(0.01)
            left = [p for p in _procs.descendants(pid) + _procs.session_members(pid) if p != pid]
            if not left or time.monotonic() > deadline + KILL_GRACE_S:
                break
        _, status, usage = os.wait4(pid, 0)
        return status, usage

    def _read_report(self, block: bool, timeout_s: float | None = None) -> dict[str, Any]:
        """The launcher's report (what isolation it got), {} while (or if) there is none."""
        if self.report is None and (block or select.select([self.report_fd], [], [], 0)[0]):
            if not select.select([self.report_fd], [], [], timeout_s)[0]:
                return {}
            try:
                self.report = marshal.loads(os.read(self.report_fd, 65536) or marshal.dumps({}))
            except (ValueError, EOFError, TypeError):
                self.report = {}
        return self.report or {}


def _tail(file: IO[bytes], output_kb: int) -> str:
    """The last ``output_kb`` KiB of ``file`` as text; closes it."""
    with file:
        size = file.seek(0, os.SEEK_END)
        file.seek(max(0, size - output_kb * 1024))
        return file.read().decode("utf-8", errors="replace")

"""The values a sandboxed run takes and gives: its limits, its result, and how an ending becomes a status."""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass

from evoforge._errors import EvoforgeError

STATUSES = ("ok", "failed", "refused", "timeout", "cpu", "memory", "file_size", "killed")


@dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use.

    ``wall_s``: wall-clock seconds; past it every process of the run is SIGKILLed (status ``timeout``).
    ``cpu_s``: CPU seconds per process (``RLIMIT_CPU``: SIGXCPU, then SIGKILL a second later; status ``cpu``).
    ``memory_mb``: resident memory of all the run's processes together, read from /proc every 50 ms; past it the run
    is killed (status ``memory``). ``RLIMIT_DATA`` at twice that plus 1 GiB backs it up against a sudden balloon.
    ``file_mb``: largest file the code may write (``RLIMIT_FSIZE``; also the size of its private /dev/shm).
    ``processes``: processes and threads the code may add to its own (``RLIMIT_NPROC``, counted for the run's own
    uid when root drops privileges, inside the run's user namespace otherwise, or machine-wide for the user when
    the OS gives no namespaces; not enforced where the code must run as root: see ``isolation().processes``).
    ``output_kb``: how much of the end of stdout and of stderr is kept.
    """

    wall_s: float = 120.0
    cpu_s: float | None = 120.0
    memory_mb: int | None = 4096
    file_mb: int = 64
    processes: int = 64
    output_kb: int = 256

    def __post_init__(self) -> None:
        for name in ("wall_s", "cpu_s", "memory_mb", "file_mb", "output_kb"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"Limits.{name}: expected a positive number, got {value!r}")
        if self.processes < 0:
            raise ValueError(f"Limits.processes: expected 0 or more, got {self.processes!r}")


@dataclass(frozen=True)
class SandboxResult:
    """What happened to one sandboxed run.

    ``status``: ``ok``, ``failed`` (non-zero exit), ``refused`` (static check; nothing ran), ``timeout``, ``cpu``,
    ``memory``, ``file_size`` or ``killed`` (another signal). ``reason``: one line for people. ``metrics``: the last
    line of stdout that is a JSON object of numbers (booleans become 0.0/1.0), or None. ``wall_s``: seconds from
    start to the end of every process. ``network_isolated``: the run had its own, empty network namespace.
    """

    status: str
    reason: str
    returncode: int | None
    stdout: str
    stderr: str
    metrics: dict[str, float] | None
    wall_s: float
    network_isolated: bool

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class SandboxError(EvoforgeError):
    """Raised by tasks when a candidate's sandboxed run did not succeed; the message is one line naming what happened.

    ``result`` holds the run's ``SandboxResult`` when there was one.
    """

    def __init__(self, message: str, result: SandboxResult | None = None) -> None:
        super().__init__(message)
        self.result = result


def parse_metrics(stdout: str) -> dict[str, float] | None:
    """The last line of ``stdout`` that is a non-empty JSON object whose values are all numbers, as floats."""
    for line in reversed(stdout.splitlines()):
        if not line.lstrip().startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and value and all(isinstance(v, (int, float)) for v in value.values()):
            return {str(k): float(v) for k, v in value.items()}
    return None


def last_line(text: str) -> str:
    """The last non-empty line of ``text``, stripped ("" if none)."""
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")


def judge(returncode: int, cpu_used_s: float, stderr: str, limits: Limits) -> tuple[str, str]:
    """(status, reason) for a run that ended by itself with ``returncode`` (negative: killed by that signal)."""
    tail = last_line(stderr)
    if returncode == 0:
        return "ok", "ok"
    if returncode == -signal.SIGXCPU or (
        returncode == -signal.SIGKILL and limits.cpu_s is not None and cpu_used_s >= limits.cpu_s
    ):
        return "cpu", f"CPU-time limit of {limits.cpu_s:g} s reached"
    if returncode == -signal.SIGXFSZ or "[Errno 27] File too large" in tail:  # Python ignores SIGXFSZ: EFBIG
        return "file_size", f"file-size limit of {limits.file_mb} MB reached"
    if returncode > 0 and tail.startswith("MemoryError"):  # the RLIMIT_DATA backstop
        return "memory", f"memory limit of {limits.memory_mb} MB reached (MemoryError)"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        return "killed", f"killed by signal {name}"
    return "failed", f"exit code {returncode}: {tail}" if tail else f"exit code {returncode}"

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from evoforge import _codec


@dataclass(frozen=True)
class Job:
    """A call to run somewhere: ``fn`` is ``"module:function"``, called as ``fn(payload)``. The payload and the value
    it returns are JSON values and bytes (``evoforge._codec``): that is all that crosses to a worker and back, never a
    pickle, and a tuple comes back as a list.

    ``key`` identifies the job to its submitter (evoforge uses the trial number); ``timeout_s`` is the wall-clock
    limit of the call once it has started. Two optional resource caps, enforced only by executors with worker
    processes:

    - ``cpu_s``: CPU seconds (user + system) the job may use. It is a per-process limit: the job's process gets
      it, and each child process it starts inherits it and is held to it on its own account.
    - ``memory_mb``: resident memory, in MiB, of the worker process running the job (its RSS plus the RSS of its
      child processes). Memory the worker still holds from earlier jobs counts too.
    """

    key: int
    fn: str
    payload: Any
    timeout_s: float | None = None
    cpu_s: float | None = None
    memory_mb: float | None = None


@dataclass(frozen=True)
class Outcome:
    """How a job ended: its return value, or why it did not return (a traceback, a crash, a timeout)."""

    key: int
    ok: bool
    value: Any = None
    error: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    lost: bool = False  # its worker died under it (killed from outside, the OOM killer, a lost machine): may retry


class Executor(ABC):
    """Decides where jobs run; knows nothing of studies or search.

    Contract: at most ``capacity`` jobs run at once and ``submit`` raises ``RuntimeError`` past it; every submitted
    job yields exactly one ``Outcome`` from ``wait``; a job that raises, crashes its worker or passes its timeout
    yields ``ok=False`` with the reason, and the executor stays usable. A job past one of its caps (``Job.cpu_s``,
    ``Job.memory_mb``) is stopped and yields ``ok=False`` with an error naming the cap, e.g. ``"CPU-time cap of 2 s
    exceeded; worker killed and replaced"`` or ``"memory cap of 300 MB exceeded (resident 512 MB); worker killed and
    replaced"``, and the executor stays usable; an executor that cannot enforce a cap raises ``ValueError`` at
    ``submit``. Not thread-safe: one caller drives it.
    """

    capacity: int

    @abstractmethod
    def submit(self, job: Job) -> None:
        """Start ``job``; returns at once."""

    @abstractmethod
    def wait(self, timeout: float | None = None) -> list[Outcome]:
        """Outcomes of jobs that ended, waiting up to ``timeout`` seconds for at least one."""

    @property
    @abstractmethod
    def running(self) -> int:
        """Jobs submitted whose outcome has not been returned yet."""

    def shutdown(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Stop workers and release resources; jobs still running are abandoned."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def encode_job(job: Job) -> bytes:
    return _codec.pack({k: getattr(job, k) for k in ("key", "fn", "payload", "timeout_s", "cpu_s", "memory_mb")})


def decode_job(data: bytes) -> Job:
    return Job(**_codec.unpack(data))


def call(fn: str, payload: Any) -> Any:
    """``fn(payload)`` as a worker runs it: the payload as it arrives from another process (packed and unpacked),
    and the value as it will leave (``TypeError`` naming the problem when it is not JSON values and bytes)."""
    value = resolve(fn)(_codec.unpack(_codec.pack(payload)))
    try:
        return _codec.unpack(_codec.pack(value))
    except TypeError as exc:
        raise TypeError(f"the job's value cannot go back to the coordinator: {exc}") from None


@cache
def resolve(fn: str) -> Callable[[Any], Any]:
    module, _, name = fn.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]

"""Jobs as Ray tasks, on a local Ray instance or an existing cluster (``pip install evoforge[ray]``)."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from typing import Any

from evoforge import _codec
from evoforge.executors._base import Executor, Job, Outcome, resolve


def _run(fn: str, payload: bytes) -> bytes:
    """The job, in a Ray worker: its value and when it started and finished there, packed (JSON values and bytes
    cross, never a pickle of ours)."""
    started = time.time()
    value = resolve(fn)(_codec.unpack(payload))
    return _codec.pack([value, started, time.time()])


@dataclass
class _Flight:
    job: Job
    submitted: float


class RayExecutor(Executor):
    """Each job is a Ray task asking for ``cpus`` CPUs, ``gpus`` GPUs and, when the job has a memory cap, that much
    memory, so Ray's resource accounting packs them on the cluster's nodes: ``gpus=0.5`` runs two jobs on each GPU,
    each seeing only its GPU (``CUDA_VISIBLE_DEVICES``). ``resources`` asks for custom node resources as well
    (``{"trainer": 1}`` keeps jobs on nodes started with ``--resources '{"trainer": 8}'``).

    ``runtime_env`` is Ray's, for each job (``make_executor`` passes the driver's own import folders as
    ``PYTHONPATH``, so a user's module beside the goal file imports on workers of this machine; on other machines
    install it or use ``working_dir``).

    ``address`` joins an existing cluster (``"auto"``, or ``"ray://HOST:10001"``); None starts a local instance,
    stopped by ``shutdown``. A job that raises comes back with its traceback; one whose worker or node died
    (``WorkerCrashedError``, ``NodeDiedError``, a lost object) comes back ``lost`` so the study runs it again; one past
    its ``timeout_s`` (counted from submission: Ray does not say when a task starts) is cancelled with its worker.
    CPU-time caps are not enforced by Ray and are refused; a memory cap is a scheduling request, not a kill.
    """

    def __init__(
        self,
        capacity: int,
        address: str | None = None,
        cpus: float = 1.0,
        gpus: float = 0.0,
        resources: dict[str, float] | None = None,
        runtime_env: dict[str, Any] | None = None,
    ) -> None:
        import ray

        self.capacity, self.cpus, self.gpus, self.resources = capacity, cpus, gpus, dict(resources or {})
        self.runtime_env = dict(runtime_env or {})
        self._started_ray = not ray.is_initialized()
        if self._started_ray:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        self._task = ray.remote(_run)
        self._flights: dict[Any, _Flight] = {}

    def submit(self, job: Job) -> None:
        if job.cpu_s is not None:
            raise ValueError("per-job CPU-time caps are not enforced on Ray (use the local pool)")
        if len(self._flights) >= self.capacity:
            raise RuntimeError("executor is full")
        options: dict[str, Any] = {"num_cpus": self.cpus, "num_gpus": self.gpus, "max_retries": 0}
        if self.runtime_env:
            options["runtime_env"] = self.runtime_env
        if self.resources:
            options["resources"] = self.resources
        if job.memory_mb is not None:
            options["memory"] = int(job.memory_mb * 2**20)
        ref = self._task.options(**options).remote(job.fn, _codec.pack(job.payload))
        self._flights[ref] = _Flight(job, time.time())

    @property
    def running(self) -> int:
        return len(self._flights)

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        import ray

        if not self._flights:
            return []
        deadlines = [f.submitted + f.job.timeout_s for f in self._flights.values() if f.job.timeout_s is not None]
        if deadlines:  # wake up for the first job that runs past its time, not only for results
            until = max(0.0, min(deadlines) - time.time()) + 0.05
            timeout = until if timeout is None else min(timeout, until)
        ready, _ = ray.wait(list(self._flights), num_returns=1, timeout=timeout)
        if ready:  # and whatever else is done by now
            ready, _ = ray.wait(list(self._flights), num_returns=len(self._flights), timeout=0)
        out = [self._outcome(ref) for ref in ready]
        return out + self._timed_out()

    def _outcome(self, ref: Any) -> Outcome:
        import ray
        from ray.exceptions import RayTaskError

        flight = self._flights.pop(ref)
        try:
            value, started, finished = _codec.unpack(ray.get(ref))
        except RayTaskError as exc:
            return Outcome(flight.job.key, False, None, _traceback(exc), flight.submitted, time.time())
        except ray.exceptions.RayError as exc:  # the worker, its node or the result was lost
            why = f"Ray lost the job ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
            return Outcome(flight.job.key, False, None, why, flight.submitted, time.time(), lost=True)
        return Outcome(flight.job.key, True, value, None, started, finished)

    def _timed_out(self) -> list[Outcome]:
        import ray

        now, out = time.time(), []
        for ref, flight in list(self._flights.items()):
            if flight.job.timeout_s is not None and now - flight.submitted > flight.job.timeout_s:
                ray.cancel(ref, force=True)
                del self._flights[ref]
                why = f"timed out after {flight.job.timeout_s:g} s; its Ray worker was cancelled"
                out.append(Outcome(flight.job.key, False, None, why, flight.submitted, now))
        return out

    def shutdown(self) -> None:
        import ray

        for ref in list(self._flights):
            ray.cancel(ref, force=True)
        self._flights.clear()
        if self._started_ray:
            ray.shutdown()


def _traceback(exc: Exception) -> str:
    """The job's own traceback as Ray reports it (its text holds the remote traceback)."""
    text = str(exc)
    return text if "Traceback" in text else "".join(traceback.format_exception(exc))

"""Executors by name: ``local`` (a pool of worker processes; 0 workers runs jobs in this process), ``ray``, or any
Executor subclass by import path or by an entry point in the group ``evoforge.executors``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from evoforge._errors import GoalError
from evoforge._registry import Registry
from evoforge.executors._base import Executor

EXECUTORS = {
    "local": "evoforge.executors._pool:LocalPool",
    "inline": "evoforge.executors._inline:InlineExecutor",
    "ray": "evoforge.executors._ray:RayExecutor",
}
EXECUTOR_PARTS = Registry("executor", "--executor", Executor, EXECUTORS)


def make_executor(
    name: str, workers: int | None, address: str | None = None, cpus: float = 1.0, gpus: float = 0.0
) -> Executor:
    """The executor ``name`` stands for, running ``workers`` jobs at once.

    ``local``: that many worker processes (default: the machine's cores; 0 runs jobs in this process). ``ray``: Ray
    tasks of ``cpus`` CPUs and ``gpus`` GPUs each on the cluster at ``address`` (default: a local instance started
    for the run), as many at once as the cluster holds unless ``workers`` caps them. Any other executor class is
    built as ``cls(capacity)``.
    """
    if name == "ray":
        return _ray(workers, address, cpus, gpus)
    if address is not None:
        raise GoalError("--address: only the ray executor joins a cluster")
    capacity = os.cpu_count() or 1 if workers is None else workers
    if name == "local":
        from evoforge.executors import InlineExecutor, LocalPool

        return LocalPool(capacity) if capacity else InlineExecutor()
    cls = EXECUTOR_PARTS.load(name)
    return cls(max(capacity, 1))  # type: ignore[call-arg]


def _import_folders() -> dict[str, Any]:
    """Folders this process imports from that are not part of its Python installation (the working directory, a
    goal file's folder, PYTHONPATH), for Ray workers: a user's own module found here is found there too."""
    installed = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    own = [str(Path(p or ".").resolve()) for p in sys.path]
    own = [p for p in dict.fromkeys(own) if Path(p).is_dir() and not any(p.startswith(i) for i in installed)]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(own)}} if own else {}


def _ray(workers: int | None, address: str | None, cpus: float, gpus: float) -> Executor:
    try:
        from evoforge.executors._ray import RayExecutor
    except ImportError:
        raise GoalError("--executor ray: Ray is not installed (pip install evoforge[ray])") from None
    import ray

    executor = RayExecutor(max(workers or 1, 1), address, cpus=cpus, gpus=gpus, runtime_env=_import_folders())
    if not workers:  # as many jobs at once as the cluster's CPUs (and GPUs, for GPU jobs) hold
        room = ray.cluster_resources()
        fits = [room.get("CPU", 0) / cpus] + ([room.get("GPU", 0) / gpus] if gpus else [])
        executor.capacity = max(1, int(min(fits)))
    return executor

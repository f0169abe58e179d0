"""Job functions for the executor tests; workers import them by name."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from typing import Any


def double(x: int) -> int:
    return 2 * x


def pid(_: Any) -> int:
    return os.getpid()


def boom(message: str) -> None:
    raise RuntimeError(message)


def hang(seconds: float) -> None:
    time.sleep(seconds)


def crash(code: int) -> None:
    os._exit(code)


def spin(seconds: float) -> None:
    """Burn CPU for ``seconds`` of wall-clock time."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def hold(spec: tuple[int, float]) -> int:
    """Allocate ``mib`` MiB, written so it is resident, and keep it ``seconds``; returns ``mib``."""
    mib, seconds = spec
    block = b"\x01" * (mib * 2**20)
    time.sleep(seconds)
    return len(block) // 2**20


def hold_in_child(mib: int) -> None:
    """Start a child process that holds ``mib`` MiB, and wait for it."""
    code = f"import time; block = b'x' * ({mib} * 2**20); time.sleep(10)"
    subprocess.run([sys.executable, "-c", code], check=False)


def cpu_limit(_: Any) -> tuple[int, int]:
    return resource.getrlimit(resource.RLIMIT_CPU)


def kill_my_node(marker: str) -> str:
    """On its first run, kill the raylet of the Ray node it runs on (the whole node is lost with it) and wait to
    die; on a later run, return the id of the node it ran on."""
    import signal

    import ray

    node = ray.get_runtime_context().get_node_id()
    if not os.path.exists(marker):
        with open(marker, "w") as f:
            f.write(node)
        os.kill(os.getppid(), signal.SIGKILL)  # a Ray worker's parent is its node's raylet
        time.sleep(60)
    return node


def gpu_slot(seconds: float) -> tuple[str, float, float]:
    """The GPUs Ray gave this job (``CUDA_VISIBLE_DEVICES``), and when it held them."""
    start = time.time()
    time.sleep(seconds)
    return os.environ.get("CUDA_VISIBLE_DEVICES", ""), start, time.time()

"""What a multi-node Ray cluster adds: a node lost mid-trial (its raylet killed) and GPU trials packed by Ray's
resource accounting. Each test adds nodes of its own to the session's cluster (scripts/ray_cluster.sh)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from evoforge.executors import Job
from tests.executors.test_executor_contract import drain

ray = pytest.importorskip("ray", reason="Ray is the ray extra (pip install evoforge[ray])")
from evoforge.executors._ray import RayExecutor  # noqa: E402 - only with Ray installed

F = "tests.executors.jobs:"
RAY = Path(sys.executable).parent / "ray"  # the ray command of the interpreter running the tests
CLUSTER_DIR = "/tmp/evoforge-ray-6390"  # scripts/ray_cluster.sh


def _cluster_processes() -> dict[int, str]:
    """Processes of the test cluster (their command lines name its folder), but not Ray's task workers."""
    out = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if CLUSTER_DIR in cmdline and "default_worker" not in cmdline:
            out[int(entry)] = cmdline
    return out


@pytest.fixture
def add_node(ray_cluster: str) -> Iterator[Callable[..., None]]:
    """Start one more node on the cluster (a raylet of its own); every process of every node it started (raylet, log
    monitor, agents) is killed at the end."""
    started: set[int] = set()

    def start(cpus: float = 0, gpus: float = 0, resources: dict[str, float] | None = None) -> None:
        before, alive = set(_cluster_processes()), sum(n["Alive"] for n in ray.nodes())
        cmd = [str(RAY) if RAY.exists() else "ray", "start", f"--address={ray_cluster}"]
        cmd += ["--node-ip-address=127.0.0.1", f"--num-cpus={cpus}", f"--num-gpus={gpus}"]
        cmd += [f"--temp-dir={CLUSTER_DIR}", "--disable-usage-stats"]
        if resources:
            cmd.append(f"--resources={json.dumps(resources)}")
        env = {**os.environ, "RAY_AUTH_MODE": "disabled"}
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        started.update(set(_cluster_processes()) - before)
        for _ in range(100):
            if sum(n["Alive"] for n in ray.nodes()) > alive:
                return
            time.sleep(0.2)
        raise AssertionError("the new node did not join the cluster")

    yield start
    for pid in started:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_a_trial_on_a_lost_node_comes_back_lost_and_runs_again_on_another(
    add_node: Callable[..., None], tmp_path: Path
) -> None:
    # Two nodes that alone offer the trial's resource: the first run kills its node's raylet, the retry runs on
    # the node that is left.
    add_node(cpus=1, resources={"evoforge_doomed": 1})
    add_node(cpus=1, resources={"evoforge_doomed": 1})
    executor = RayExecutor(1, resources={"evoforge_doomed": 1})
    try:
        marker = tmp_path / "killed-node"
        executor.submit(Job(1, F + "kill_my_node", str(marker)))
        first = drain(executor)[1]
        assert not first.ok and first.lost, first.error
        assert "Ray lost the job" in (first.error or "")
        executor.submit(Job(1, F + "kill_my_node", str(marker)))
        second = drain(executor)[1]
        assert second.ok and second.value != marker.read_text()
    finally:
        executor.shutdown()
    dead = marker.read_text()
    for _ in range(300):  # the cluster marks the node dead once its health checks fail
        if not next(n["Alive"] for n in ray.nodes() if n["NodeID"] == dead):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the killed node is still alive in the cluster's view")


def test_gpu_trials_are_packed_by_rays_accounting(add_node: Callable[..., None]) -> None:
    # A node declaring 2 GPUs (Ray's accounting needs no real device): at 0.5 GPU a trial, 4 run at once, two on
    # each GPU, and each sees only its own through CUDA_VISIBLE_DEVICES.
    add_node(cpus=0, gpus=2)
    executor = RayExecutor(6, cpus=0, gpus=0.5)
    try:
        for key in range(6):
            executor.submit(Job(key, F + "gpu_slot", 1.5))
        out = drain(executor)
    finally:
        executor.shutdown()
    assert all(o.ok for o in out.values()), [o.error for o in out.values()]
    slots = [o.value for o in out.values()]
    assert {device for device, _, _ in slots} == {"0", "1"}
    most = max(sum(s <= t < e for _, s, e in slots) for _, t, _ in slots)
    assert most == 4  # 2 GPUs x 2 trials each, never more

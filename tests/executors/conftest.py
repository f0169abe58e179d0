"""The Ray cases run on a real multi-node Ray cluster on this machine: a head and a worker node, each its own
raylet, started by ``scripts/ray_cluster.sh`` (and stopped at the end if this session started it)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "ray_cluster.sh"


def cluster_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[str]:
    """The address of the test cluster, this process connected to it as its driver. Without Ray the Ray cases are
    skipped, unless ``EVOFORGE_REQUIRE_RAY`` is set (CI), where they fail."""
    try:
        import ray
    except ImportError:
        _missing("Ray is not installed (pip install evoforge[ray])")
    running = subprocess.run(["pgrep", "-f", "/tmp/evoforge-ray-6390/"], capture_output=True, text=True).returncode == 0
    done = cluster_script("start")
    if done.returncode != 0:
        _missing(f"scripts/ray_cluster.sh could not start a cluster: {done.stderr.strip()[-300:]}")
    address = done.stdout.strip().splitlines()[-1]
    ray.init(address=address, log_to_driver=False, configure_logging=False)
    try:
        yield address
    finally:
        ray.shutdown()
        if not running:
            cluster_script("stop")


def _missing(why: str) -> None:
    if os.environ.get("EVOFORGE_REQUIRE_RAY"):
        pytest.fail(f"a Ray cluster is required here: {why}")
    pytest.skip(f"Ray not available: {why}")

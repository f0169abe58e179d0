from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def local_ray() -> Iterator[None]:
    """A real local Ray instance (two CPUs) for the whole session; skipped without the ray extra."""
    ray = pytest.importorskip("ray", reason="Ray is the ray extra (pip install evoforge[ray])")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()

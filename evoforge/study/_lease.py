"""One coordinator per study: the lease a coordinator takes from the store before it touches a study."""

from __future__ import annotations

import os
import socket
import time

from evoforge._errors import EvoforgeError
from evoforge.storage import Store, StudyRecord

LEASE_TTL_S = 60.0  # a coordinator elsewhere silent for this long is presumed dead
HEARTBEAT_S = 5.0


def _lease_is_stale(holder: str, heartbeat: float) -> bool:
    """A holder on this machine is judged by its process (alive or not, however long a trial keeps it from its
    heartbeat); a holder elsewhere by its heartbeat."""
    host, _, pid = holder.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True  # the coordinator that held it is gone (e.g. killed with SIGKILL)
        except PermissionError:
            return False
        return False
    return time.time() - heartbeat > LEASE_TTL_S


def take_lease(store: Store, study: StudyRecord) -> str:
    """Make this process the study's only coordinator, or raise naming the one that is running it."""
    owner = f"{socket.gethostname()}:{os.getpid()}"
    holder = store.acquire_lease(study.id, owner, _lease_is_stale)
    if holder is not None:
        raise EvoforgeError(f"study {study.name!r} is being run by another coordinator ({holder}); wait for it to end")
    return owner

"""One coordinator per study at a time: the lease a coordinator takes from the store before it touches a study.
Others may stand by (``evoforge run --standby``) and take over when it stops or dies."""

from __future__ import annotations

import os
import socket
import sys
import time

from evoforge._errors import EvoforgeError
from evoforge.storage import Store, StudyRecord

LEASE_TTL_S = 60.0  # a coordinator elsewhere silent for this long is presumed dead
HEARTBEAT_S = 5.0
STANDBY_POLL_S = 1.0


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


def take_lease(store: Store, study: StudyRecord, wait: bool = False, quiet: bool = True) -> str:
    """Make this process the study's only coordinator, or raise naming the one that is running it; with ``wait``,
    stand by until that one stops (or dies: same machine, its process is gone; elsewhere, ``LEASE_TTL_S`` without a
    heartbeat) and take over."""
    owner = f"{socket.gethostname()}:{os.getpid()}"
    told = False
    while (holder := store.acquire_lease(study.id, owner, _lease_is_stale)) is not None:
        if not wait:
            raise EvoforgeError(
                f"study {study.name!r} is being run by another coordinator ({holder}); wait for it to end, or run "
                "with --standby to take over when it does"
            )
        if not told and not quiet:
            print(f"standing by: study {study.name!r} is run by {holder}", file=sys.stderr)
        told = True
        time.sleep(STANDBY_POLL_S)
    return owner

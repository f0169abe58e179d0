"""What isolation this machine gives sandboxed runs, probed once per process with a real run."""

from __future__ import annotations

import functools
import os
import pwd
import sys
from dataclasses import dataclass

from evoforge.sandbox._result import Limits, parse_metrics
from evoforge.sandbox._run import run_reporting

# Run in the sandbox with a process cap of 0: reports 1.0 for each protection that held.
PROBE = """
import errno, json, os, socket
found = {}
try:
    socket.create_connection(("127.0.0.1", 9), timeout=2).close()
    found["network"] = 0
except OSError as e:  # an empty network namespace has not even a loopback: unreachable, not refused
    found["network"] = int(e.errno in (errno.ENETUNREACH, errno.EADDRNOTAVAIL))
try:
    pid = os.fork()
except OSError:
    found["processes"] = 1
else:
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    found["processes"] = 0
print(json.dumps(found))
"""


@dataclass(frozen=True)
class Isolation:
    """What a sandboxed run gets here.

    ``network``: runs get a new, empty network namespace. ``user``: who the code runs as. ``processes``: the
    ``Limits.processes`` cap is enforced. ``note``: one line for ``evoforge status``.
    """

    network: bool
    user: str
    processes: bool
    note: str


@functools.lru_cache(maxsize=1)
def isolation() -> Isolation:
    """Probe (once per process; about a tenth of a second) what isolation sandboxed runs get on this machine."""
    result, report = run_reporting([sys.executable, "-I", "-S", "-c", PROBE], {}, Limits(wall_s=30, processes=0))
    found = parse_metrics(result.stdout) if result.ok else None
    if found is None:
        return Isolation(False, "unknown", False, f"sandbox: the isolation probe failed: {result.reason}")
    network, processes = found.get("network") == 1.0, found.get("processes") == 1.0
    user = report.get("user", "unknown")
    if user == "the current user":
        user = f"the current user ({pwd.getpwuid(os.getuid()).pw_name})"
    parts = [
        "network isolated (new network namespace)"
        if network
        else f"network NOT isolated ({report.get('error') or 'a socket reached 127.0.0.1'})",
        _files_note(report.get("writable")),
        f"runs as {user}",
        f"process cap {Limits().processes}" if processes else "no process cap (RLIMIT_NPROC does not bind root)",
    ]
    return Isolation(network, user, processes, "sandbox: " + ", ".join(parts))


def _files_note(writable: list[str] | None) -> str:
    if writable is None:
        return "file system as the user sees it (no mount namespace)"
    if writable:
        return f"file system read-only except the workdir and {', '.join(writable)}"
    return "file system read-only except the workdir, home folders hidden"

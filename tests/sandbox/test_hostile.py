"""The hostile suite: programs that try to hurt the study or the machine, really run, each contained and recorded.

Each runs once with the static check on (refused with the reason, or, when it has nothing to refuse, stopped by the
runtime limits), and the ones that matter run again with the check bypassed (``checked=()``) to show that the
runtime limits and namespaces contain them on their own.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from evoforge.sandbox import Limits, SandboxResult, isolation, run_sandboxed
from evoforge.sandbox._run import run_reporting
from tests.conftest import process_alive

REPO = Path(__file__).resolve().parents[2]
KILL_LIMITS = Limits(wall_s=4, cpu_s=2, memory_mb=300, file_mb=8, processes=16)


@dataclass(frozen=True)
class Hostile:
    name: str
    code: str
    static: str | None  # the static check's first reason, or None when there is nothing to refuse
    runtime: tuple[str, ...]  # statuses that mean "contained" for the run with the check on


HOSTILE = [
    Hostile("infinite loop", "while True:\n    pass\n", None, ("cpu", "timeout")),
    Hostile(
        "fork bomb",
        "import os\nwhile True:\n    try:\n        if os.fork() == 0:\n            print('forked', flush=True)\n"
        "    except OSError:\n        pass\n",
        "line 1: import of 'os' is not allowed",
        (),
    ),
    Hostile("memory balloon", "chunks = []\nwhile True:\n    chunks.append(b'x' * 10_000_000)\n", None, ("memory",)),
    Hostile(
        "write outside the workdir",
        "import sys\ntry:\n    open(sys.argv[2], 'w').write('escaped')\n    print('wrote')\nexcept OSError as e:\n"
        "    print('refused', e)\n",
        "line 1: import of 'sys' is not allowed",
        (),
    ),
    Hostile(
        "open a socket",
        "import socket, sys\ntry:\n    socket.create_connection(('127.0.0.1', int(sys.argv[2])), timeout=2)\n"
        "    print('connected')\nexcept OSError as e:\n    print('failed', e)\n",
        "line 1: import of 'socket' is not allowed",
        (),
    ),
    Hostile(
        "import os, subprocess, ctypes",
        "import os, subprocess, ctypes, sys\nsubprocess.run(['sh', '-c', 'echo pwned > ' + sys.argv[2]])\n"
        "ctypes.CDLL(None).system(('echo pwned >> ' + sys.argv[2]).encode())\n",
        "line 1: import of 'os' is not allowed",
        (),
    ),
    Hostile(
        "read environment secrets",
        "import os, glob\nprint(os.environ.get('EVOFORGE_TEST_SECRET'))\nfor path in glob.glob('/proc/*/environ'):\n"
        "    try:\n        print(open(path, 'rb').read())\n    except OSError:\n        pass\n",
        "line 1: import of 'os' is not allowed",
        (),
    ),
]


def survivors(marker: str) -> list[int]:
    """Live processes whose command line carries ``marker`` (only the sandboxed code's do: keep it out of others)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in found if process_alive(pid)]


def run_hostile(code: str, *args: str, checked: tuple[str, ...] = (), limits: Limits = KILL_LIMITS) -> SandboxResult:
    """Run ``code`` as main.py with a marker as its first argument; assert none of its processes survives."""
    marker = f"evoforge-hostile-{uuid.uuid4().hex}"
    result = run_sandboxed(["python", "main.py", marker, *args], {"main.py": code}, limits, checked=checked)
    assert survivors(marker) == []
    return result


@pytest.fixture
def outside_target() -> Iterator[str]:
    """A path under /tmp, outside the sandbox's working directory; removed afterwards if anything wrote it."""
    target = Path(f"/tmp/evoforge-escaped-{uuid.uuid4().hex}")
    yield str(target)
    target.unlink(missing_ok=True)


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_with_the_static_check_every_hostile_program_is_refused_or_stopped(hostile: Hostile, tmp_path: Path) -> None:
    result = run_hostile(hostile.code, str(tmp_path / "escaped"), checked=("main.py",))
    if hostile.static is None:
        assert result.status in hostile.runtime, result.reason
    else:
        assert (result.status, result.reason) == ("refused", f"static check: {hostile.static}")
    assert not (tmp_path / "escaped").exists()


def test_an_infinite_loop_is_stopped_by_the_cpu_limit() -> None:
    result = run_hostile(HOSTILE[0].code, limits=Limits(wall_s=10, cpu_s=1))
    assert (result.status, result.reason) == ("cpu", "CPU-time limit of 1 s reached")


def test_an_infinite_loop_without_a_cpu_limit_is_stopped_by_the_wall_time_limit() -> None:
    result = run_hostile(HOSTILE[0].code, limits=Limits(wall_s=2, cpu_s=None))
    assert (result.status, result.reason) == ("timeout", "wall-time limit of 2 s reached")


def test_a_fork_bomb_is_capped_and_killed_with_every_process_it_made() -> None:
    if not isolation().processes:
        pytest.skip(f"no process cap on this machine, a fork bomb would hurt it ({isolation().note})")
    result = run_hostile(HOSTILE[1].code, limits=Limits(wall_s=3, cpu_s=None, memory_mb=2048, processes=16))
    assert result.status == "timeout"
    assert 1 <= result.stdout.count("forked") <= 16


def test_a_daemon_that_leaves_the_session_is_killed_with_the_run() -> None:
    code = (
        "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(600)\n"
        "    os._exit(0)\nprint('left a daemon behind')\n"
    )
    assert run_hostile(code).status == "ok"  # and run_hostile found no survivor


def test_a_memory_balloon_is_killed_and_reported_as_memory() -> None:
    result = run_hostile(HOSTILE[2].code, limits=Limits(wall_s=20, memory_mb=300))
    assert result.status == "memory" and result.reason.startswith("memory limit of 300 MB")


def test_writing_next_to_the_working_directory_fails(tmp_path: Path) -> None:
    result = run_hostile(HOSTILE[3].code, str(tmp_path / "escaped.txt"))
    assert result.stdout.startswith("refused") and not (tmp_path / "escaped.txt").exists()


@pytest.mark.parametrize("folder", ["/etc", str(REPO)])
def test_writing_to_system_or_repository_files_fails(folder: str) -> None:
    target = Path(folder, f"evoforge-escaped-{uuid.uuid4().hex}")
    try:
        result = run_hostile(HOSTILE[3].code, str(target))
        assert result.stdout.startswith("refused") and not target.exists()
    finally:
        target.unlink(missing_ok=True)


def test_writing_to_a_world_writable_folder_fails(outside_target: str) -> None:
    if "read-only" not in isolation().note:
        pytest.skip(f"no read-only file system here ({isolation().note})")
    result = run_hostile(HOSTILE[3].code, outside_target)
    assert result.stdout.startswith("refused") and not Path(outside_target).exists()


def test_a_socket_cannot_reach_a_server_on_this_machine() -> None:
    if not isolation().network:
        pytest.skip(f"the network is not isolated here ({isolation().note})")
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setblocking(False)
        result = run_hostile(HOSTILE[4].code, str(server.getsockname()[1]))
        with pytest.raises(BlockingIOError):
            server.accept()
    assert result.stdout.startswith("failed"), result.stdout


def test_a_shell_or_libc_call_started_by_the_code_cannot_write_outside(outside_target: str) -> None:
    if "read-only" not in isolation().note:
        pytest.skip(f"no read-only file system here ({isolation().note})")
    run_hostile(HOSTILE[5].code, outside_target)
    assert not Path(outside_target).exists()


def test_environment_secrets_of_the_parent_are_not_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    secret = f"hunter2-{uuid.uuid4().hex}"
    monkeypatch.setenv("EVOFORGE_TEST_SECRET", secret)
    result = run_hostile(HOSTILE[6].code)
    assert result.ok and result.stdout.startswith("None\n")
    assert secret not in result.stdout + result.stderr


def test_environment_secrets_of_other_processes_are_not_visible() -> None:
    if not isolation().network:  # the PID namespace comes with the network one
        pytest.skip(f"no namespaces here, /proc shows every process ({isolation().note})")
    secret = f"hunter2-{uuid.uuid4().hex}"
    # /proc/PID/environ shows the environment a process started with: start one that holds the secret.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], env={"EVOFORGE_TEST_SECRET": secret}
    )
    try:
        result = run_hostile(HOSTILE[6].code)
    finally:
        holder.kill()
        holder.wait()
    assert result.ok and secret not in result.stdout + result.stderr


def test_without_namespaces_a_timeout_still_kills_every_process_of_the_session() -> None:
    marker = f"evoforge-hostile-{uuid.uuid4().hex}"
    code = "import os, time\nfor _ in range(3):\n    os.fork()\ntime.sleep(600)\n"  # 8 processes, one session
    result, report = run_reporting(["python", "-c", code, marker], {}, Limits(wall_s=2), namespaces=False)
    assert (result.status, report["namespaces"], result.network_isolated) == ("timeout", False, False)
    assert survivors(marker) == []


@pytest.fixture
def caller_tmpdir() -> Iterator[str]:
    """A TMPDIR of our own for a caller that dies before it can remove its sandbox's working directory."""
    folder = tempfile.mkdtemp(prefix="evoforge-test-caller-")
    os.chmod(folder, 0o755)  # the sandboxed code may run as another user
    yield folder
    shutil.rmtree(folder)  # only ever this folder, which we made


def test_when_the_caller_dies_its_run_dies_too(caller_tmpdir: str) -> None:
    marker = f"evoforge-hostile-{uuid.uuid4().hex}"  # passed through the environment: only the run's argv has it
    call = "run_sandboxed(['python', '-c', 'import time; time.sleep(600)', os.environ['MARKER']], {}, Limits(600))"
    env = {**os.environ, "MARKER": marker, "TMPDIR": caller_tmpdir}
    caller = subprocess.Popen([sys.executable, "-c", f"import os\nfrom evoforge.sandbox import *\n{call}"], env=env)
    try:
        while not survivors(marker):
            assert caller.poll() is None, "the caller ended before its run started"
            time.sleep(0.05)
    finally:
        caller.kill()
        caller.wait()
    while survivors(marker):  # the launcher gets SIGKILL when its parent dies; its namespace goes with it
        time.sleep(0.05)

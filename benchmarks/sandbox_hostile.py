"""Benchmark: the hostile suite against evoforge's sandbox, with and without the static check.

Each hostile program runs twice through ``run_sandboxed``: with the static check (``checked``) and without it, so the
runtime limits and namespaces alone must contain it. A program is contained when its run is recorded with a status
and reason, nothing it tried reached outside (files absent, no connection accepted, no secret in its output) and
none of its processes survives the run. Prints a Markdown table, the isolation this machine gives, and the start-up
overhead of a sandboxed ``print(1)`` over a plain one.

    python benchmarks/sandbox_hostile.py
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from evoforge.sandbox import Limits, SandboxResult, isolation, run_sandboxed

REPO = Path(__file__).resolve().parents[1]
LIMITS = Limits(wall_s=4, cpu_s=2, memory_mb=300, file_mb=8, processes=16)
PROGRAMS = {
    "infinite loop": """
        while True:
            pass
    """,
    "fork bomb": """
        import os
        while True:
            try:
                if os.fork() == 0:
                    print('forked', flush=True)
            except OSError:
                pass
    """,
    "daemon (setsid, double fork)": """
        import os, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                time.sleep(600)
            os._exit(0)
    """,
    "memory balloon": """
        chunks = []
        while True:
            chunks.append(b'x' * 10_000_000)
    """,
    "write outside the workdir": """
        import sys
        for path in sys.argv[2:]:
            try:
                open(path, 'w').write('escaped')
            except OSError:
                pass
    """,
    "open a socket to 127.0.0.1": """
        import socket, sys
        socket.create_connection(('127.0.0.1', int(sys.argv[2])), 2)
    """,
    "import os, subprocess, ctypes": """
        import os, subprocess, ctypes, sys
        subprocess.run(['sh', '-c', 'echo pwned > ' + sys.argv[2]])
        ctypes.CDLL(None).system(('echo pwned > ' + sys.argv[3]).encode())
    """,
    "read environment secrets": """
        import os, glob
        print(os.environ.get('EVOFORGE_TEST_SECRET'))
        for path in glob.glob('/proc/*/environ'):
            try:
                print(open(path, 'rb').read())
            except OSError:
                pass
    """,
}


def survivors(marker: str) -> int:
    """Live processes whose command line carries ``marker`` (zombies do not count)."""
    count = 0
    for entry in Path("/proc").iterdir():
        try:
            alive = entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes()
            count += alive and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
        except OSError:
            continue
    return count


def targets(scratch: Path) -> list[Path]:
    """Paths outside the sandbox's working directory that hostile programs try to write."""
    tag = uuid.uuid4().hex
    return [scratch / f"escaped-{tag}", Path(f"/tmp/evoforge-escaped-{tag}"), Path(f"/etc/evoforge-escaped-{tag}")] + [
        REPO / f"evoforge-escaped-{tag}"
    ]


def run_one(name: str, checked: bool, scratch: Path) -> tuple[SandboxResult, bool]:
    """Run program ``name``; (its result, whether it was contained)."""
    marker, paths, secret = f"evoforge-hostile-{uuid.uuid4().hex}", targets(scratch), f"secret-{uuid.uuid4().hex}"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], env={"EVOFORGE_TEST_SECRET": secret}
    )
    os.environ["EVOFORGE_TEST_SECRET"] = secret
    try:
        with socket.create_server(("127.0.0.1", 0)) as server:
            server.setblocking(False)
            args = [str(server.getsockname()[1])] if "socket" in name else [str(p) for p in paths]
            command = ["python", "main.py", marker, *args]
            result = run_sandboxed(
                command, {"main.py": textwrap.dedent(PROGRAMS[name])}, LIMITS, checked=["main.py"] if checked else []
            )
            try:
                server.accept()[0].close()
                connected = True
            except BlockingIOError:
                connected = False
    finally:
        holder.kill()
        holder.wait()
        del os.environ["EVOFORGE_TEST_SECRET"]
    escaped = [p for p in paths if p.exists()]
    for path in escaped:
        path.unlink()
    expected = {"infinite loop": ("cpu", "timeout"), "memory balloon": ("memory",)}.get(name)
    contained = not (escaped or connected or survivors(marker) or secret in result.stdout + result.stderr)
    contained &= expected is None or checked and result.status == "refused" or result.status in expected
    if name == "fork bomb" and not checked:
        contained &= result.stdout.count("forked") <= LIMITS.processes
    return result, contained


def overhead_ms(repeats: int) -> tuple[float, float]:
    """Median wall time (ms) of ``print(1)`` in a plain subprocess and in the sandbox."""

    def median_ms(call: Callable[[], object]) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
        return 1000 * statistics.median(times)

    plain = median_ms(lambda: subprocess.run([sys.executable, "-c", "print(1)"], capture_output=True, check=True))
    sandboxed = median_ms(lambda: run_sandboxed(["python", "-c", "print(1)"], {}))
    return plain, sandboxed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20, help="runs of print(1) to time the start-up overhead")
    args = parser.parse_args()
    print(f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"Isolation: {isolation().note}")
    print(f"Limits: {LIMITS}\n")
    print("| program | static check | runtime without the static check (status, reason, wall s) | contained? |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for name in PROGRAMS:
            if name == "fork bomb" and not isolation().processes:
                print(f"| {name} | refused | not run: no process cap on this machine | - |")
                continue
            static, static_ok = run_one(name, True, Path(scratch))
            runtime, runtime_ok = run_one(name, False, Path(scratch))
            cells = [
                static.reason if static.status == "refused" else f"passed; then {static.status}: {static.reason}",
                f"{runtime.status}: {runtime.reason} ({runtime.wall_s:.2f} s)",
            ]
            print(f"| {name} | {cells[0]} | {cells[1]} | {'yes' if static_ok and runtime_ok else 'NO'} |")
    plain, sandboxed = overhead_ms(args.repeats)
    print(
        f"\nStart-up: print(1) takes {plain:.0f} ms plain, {sandboxed:.0f} ms sandboxed (+{sandboxed - plain:.0f} ms)."
    )


if __name__ == "__main__":
    main()

"""Running a command in the sandbox: its working directory and environment, the watch, the kill, the result."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import sysconfig
import tempfile
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from evoforge.sandbox._result import Limits, SandboxResult
from evoforge.sandbox._static import DEFAULT_IMPORTS, check_source
from evoforge.sandbox._supervise import PACKAGE_ROOT, Run

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def run_sandboxed(
    command: Sequence[str],
    files: Mapping[str, str | bytes],
    limits: Limits = Limits(),
    *,
    checked: Collection[str] = (),
    allow_imports: Collection[str] = DEFAULT_IMPORTS,
    env: Mapping[str, str] | None = None,
    readable: Collection[str] = (),
) -> SandboxResult:
    """Write ``files`` into a fresh temporary directory (removed afterwards) and run ``command`` there, sandboxed.

    ``command[0] == "python"`` means this interpreter. The names in ``checked`` are static-checked first
    (``check_source``); any violation gives status ``refused`` and nothing runs. The child gets only a minimal
    environment (PATH, HOME and TMPDIR = the working directory, LANG, PYTHONPATH so evoforge and this environment's
    packages import, one thread for OpenMP/MKL/OpenBLAS) plus ``env``: never this process's variables.

    Where the OS allows (``isolation()``), the run has its own network (empty), PID, IPC and mount namespaces; the
    file system is read-only except the working directory, the home directories (/root, /home, ~) are hidden
    except the Python installation, the folder holding evoforge and the ``readable`` paths; as root, the code
    runs as an unprivileged uid of its own, so ``readable`` paths must be readable by others.

    Raises ValueError for a bad argument (a file name outside the directory, a missing ``checked`` or ``readable``
    path); never raises for anything the child does.
    """
    if not command:
        raise ValueError("command: expected at least the program to run")
    reasons = _static_reasons(files, checked, allow_imports)
    if reasons:
        stderr = "\n".join(reasons) + "\n"
        return SandboxResult("refused", f"static check: {reasons[0]}", None, "", stderr, None, 0.0, False)
    missing = [path for path in readable if not os.path.exists(path)]
    if missing:
        raise ValueError(f"readable: {missing[0]} does not exist")
    return run_reporting(command, files, limits, env, readable)[0]


def run_reporting(
    command: Sequence[str],
    files: Mapping[str, str | bytes],
    limits: Limits,
    env: Mapping[str, str] | None = None,
    readable: Collection[str] = (),
    namespaces: bool = True,
) -> tuple[SandboxResult, dict[str, Any]]:
    """``run_sandboxed`` without the static check, with the launcher's report of the isolation it got.

    ``namespaces=False`` runs as where the OS gives none (for tests of that fallback).
    """
    argv = [sys.executable if command[0] == "python" else command[0], *command[1:]]
    workdir = tempfile.mkdtemp(prefix="evoforge-sandbox-")
    try:
        _write_files(workdir, files)
        run = Run(argv, workdir, limits, _child_env(workdir, env), readable, namespaces)
        return run.finish(), run.report or {}
    finally:
        _remove(workdir)


def _static_reasons(files: Mapping[str, str | bytes], checked: Collection[str], allow: Collection[str]) -> list[str]:
    reasons = []
    for name in checked:
        if name not in files:
            raise ValueError(f"checked: {name!r} is not one of the files")
        source = files[name]
        try:
            text = source.decode() if isinstance(source, bytes) else source
        except UnicodeDecodeError:
            reasons.append(f"{name}: not UTF-8 text")
            continue
        found = check_source(text, allow, filename=name)
        reasons += [f"{name}: {r}" for r in found] if len(checked) > 1 else found
    return reasons


def _write_files(workdir: str, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = Path(workdir, name)
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ValueError(f"files: {name!r} must be a relative path inside the working directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


def _remove(workdir: str) -> None:
    for folder, subfolders, _ in os.walk(workdir):  # undo a chmod 000 of the code's, or rmtree cannot go in
        for name in subfolders:
            with contextlib.suppress(OSError, NotImplementedError):
                os.chmod(os.path.join(folder, name), 0o700, follow_symlinks=False)
    shutil.rmtree(workdir, ignore_errors=True)


def _child_env(workdir: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    paths = dict.fromkeys([str(PACKAGE_ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    env = {
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        # The run's uid has no passwd entry: getpass.getuser() (torch's caches ask it) must find a name here.
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "PYTHONPATH": os.pathsep.join(paths),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return env | dict.fromkeys(THREAD_VARS, "1") | dict(extra or {})

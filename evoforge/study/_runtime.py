"""What a trial ran on: package versions, the device and a hash of the code, recorded with every result so it can
be reproduced (``evoforge reproduce``) and a different outcome explained."""

from __future__ import annotations

import hashlib
import platform
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("evoforge", "torch", "numpy", "scikit-learn", "scipy")


@cache
def code_hash() -> str:
    """SHA-256 (first 16 hex digits) of every Python file of the installed evoforge package, by relative path."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@cache
def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def runtime(device: str | None) -> dict[str, Any]:
    """The environment of this process: versions, machine, the device the task used, and the code hash."""
    return {
        "versions": _versions(),
        "machine": f"{platform.system()} {platform.machine()}",
        "device": device or "cpu",
        "code_hash": code_hash(),
    }

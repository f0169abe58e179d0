"""A sandbox for running untrusted generated code: static check, resource limits, namespaces; see ``run_sandboxed``.

Importing it is cheap (standard library only).
"""

from __future__ import annotations

from evoforge.sandbox._isolation import Isolation, isolation
from evoforge.sandbox._result import Limits, SandboxError, SandboxResult
from evoforge.sandbox._run import run_sandboxed
from evoforge.sandbox._static import DEFAULT_IMPORTS, check_source

__all__ = [
    "DEFAULT_IMPORTS",
    "Isolation",
    "Limits",
    "SandboxError",
    "SandboxResult",
    "check_source",
    "isolation",
    "run_sandboxed",
]

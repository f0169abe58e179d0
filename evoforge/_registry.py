"""Finding implementations by name: a table of ``"module:Class"`` paths, imported only when one is used, so an
optional heavy dependency costs nothing until then (Ray Tune's registry does the same)."""

from __future__ import annotations

import importlib
from typing import Any

from evoforge._errors import GoalError


def load_class(table: dict[str, str], name: str, field: str, kind: str) -> Any:
    """The class registered as ``name``, or a ``GoalError`` naming the goal ``field`` and the known names."""
    if name not in table:
        raise GoalError(f"{field}: unknown {kind} {name!r} (known: {', '.join(sorted(table))})")
    module, cls = table[name].split(":")
    return getattr(importlib.import_module(module), cls)

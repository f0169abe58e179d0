"""One loader for every kind of part (tasks, proposers, schedulers, executors): a short name from a table of built-ins,
an import path (``"package.module:Class"``), or a name that an installed package registers as an entry point in
the group ``evoforge.<kind>s``. Built-ins are imported only when used, so an optional heavy dependency costs nothing
until then (Ray Tune's registry does the same). A user's part outside the package is as first-class as a built-in:
it is found the same way and held to the same base class."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from evoforge._errors import GoalError


def import_path(obj: Any) -> str:
    """``"module:QualName"`` of a class or function defined at the top level of a module (what ``load_object``
    reads back in another process)."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        raise GoalError(f"{obj!r} is not defined at the top level of a module, so other processes cannot import it")
    return f"{module}:{qualname}"


def load_object(path: str, field: str) -> Any:
    """The object at ``"package.module:attr"`` (``attr`` may be dotted); a ``GoalError`` naming ``field`` and what
    went wrong (module not found, import failed, no such attribute) otherwise."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise GoalError(f"{field}: expected 'package.module:Name', got {path!r}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise GoalError(f"{field}: cannot import {module_name!r}: no module named {exc.name!r}") from None
        raise GoalError(f"{field}: importing {module_name!r} failed: {_one_line(exc)}") from None
    except Exception as exc:  # the user's module raised while it was imported
        raise GoalError(f"{field}: importing {module_name!r} failed: {_one_line(exc)}") from None
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise GoalError(f"{field}: {module_name!r} has no {attr!r}")
        obj = getattr(obj, part)
    return obj


def _one_line(exc: BaseException) -> str:
    text = (str(exc).splitlines() or [""])[0]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True)
class Registry:
    """Where parts of one kind are found. ``table`` maps built-in names to ``"module:Class"``; ``base`` is the class
    every part of this kind must derive from; ``goal_field`` is the goal field that names one (for errors)."""

    kind: str
    goal_field: str
    base: type
    table: dict[str, str] = field(default_factory=dict)

    @property
    def group(self) -> str:
        return f"evoforge.{self.kind}s"

    def load(self, name: str) -> type:
        """The class ``name`` stands for: a built-in name, an import path, or an installed entry point."""
        if name in self.table:
            cls = load_object(self.table[name], self.goal_field)
        elif ":" in name:
            cls = load_object(name, self.goal_field)
        else:
            point = self._entry_points().get(name)
            if point is None:
                known = ", ".join(self.names())
                raise GoalError(
                    f"{self.goal_field}: unknown {self.kind} {name!r} (known: {known}; or an import path "
                    f"'package.module:Class')"
                )
            try:
                cls = point.load()
            except Exception as exc:
                raise GoalError(
                    f"{self.goal_field}: loading entry point {name!r} ({point.value}) failed: {_one_line(exc)}"
                ) from None
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            base = f"{self.base.__module__.split('._')[0]}.{self.base.__name__}"
            raise GoalError(f"{self.goal_field}: {name!r} is not a {self.kind} (a subclass of {base})")
        return cls

    def names(self) -> list[str]:
        """Built-in names and those installed packages register, sorted."""
        return sorted({*self.table, *self._entry_points()})

    def name_of(self, cls: type) -> str:
        """The name that loads ``cls`` again: its built-in name, else its import path."""
        path = import_path(cls)
        return next((name for name, where in self.table.items() if where == path), path)

    def _entry_points(self) -> dict[str, metadata.EntryPoint]:
        return {p.name: p for p in metadata.entry_points(group=self.group)}

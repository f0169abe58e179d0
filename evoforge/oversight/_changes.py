"""A challenger's changes against the champion, as units that can be undone one at a time."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from evoforge.design import Design
from evoforge.design._design import describe

_ABSENT = object()
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Change:
    """One gene path whose value differs: ``old`` in the champion, ``new`` in the challenger. A list of equal
    length changes element by element (one NAS-Bench-201 edge, one block); a list that grew or shrank is one
    change, since its elements cannot be matched one to one."""

    path: Path
    old: Any
    new: Any

    @property
    def name(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out

    @property
    def text(self) -> str:
        old = "(absent)" if self.old is _ABSENT else describe(self.old)
        new = "(absent)" if self.new is _ABSENT else describe(self.new)
        return f"{self.name}: {old} -> {new}"


def changes(champion: Design, challenger: Design) -> list[Change]:
    """The changes that turn ``champion`` into ``challenger``, in gene order."""
    out: list[Change] = []
    _walk((), champion.view, challenger.view, out)
    return out


def _walk(path: Path, old: Any, new: Any, out: list[Change]) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            _walk((*path, key), old.get(key, _ABSENT), new.get(key, _ABSENT), out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:  # a list's element is a unit: half a block is not a design
                out.append(Change((*path, i), a, b))
    else:
        out.append(Change(path, old, new))


def apply(base: Design, chosen: list[Change]) -> Design:
    """``base`` (the champion) with the ``chosen`` changes made."""
    genes = base.genes
    for change in chosen:
        _set(genes, change.path, change.new)
    return Design.make(base.space, genes)


def revert(challenger: Design, change: Change) -> Design:
    """``challenger`` with ``change`` undone."""
    genes = challenger.genes
    _set(genes, change.path, change.old)
    return Design.make(challenger.space, genes)


def _set(genes: dict[str, Any], path: Path, value: Any) -> None:
    node: Any = genes
    for part in path[:-1]:
        node = node[part]
    if value is _ABSENT:
        del node[path[-1]]
    else:
        node[path[-1]] = copy.deepcopy(value)

from __future__ import annotations

import copy
import difflib
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class Design:
    """A genotype: the space it belongs to and its genes, a JSON value.

    Immutable: ``genes`` returns a fresh copy, so no caller can change a design in place. Two designs
    with the same space and genes have the same ``hash`` wherever and whenever they are made.
    """

    space: str
    _json: str = field(repr=False)

    @classmethod
    def make(cls, space: str, genes: dict[str, Any]) -> Design:
        return cls(space, _canonical(genes))

    @property
    def genes(self) -> dict[str, Any]:
        return copy.deepcopy(self._genes_cached)

    @property
    def view(self) -> dict[str, Any]:
        """The genes without a copy, for reading only (hot paths: validation, encodings); never modify it."""
        return self._genes_cached

    @property
    def _genes_cached(self) -> dict[str, Any]:
        cached = self.__dict__.get("_genes")
        if cached is None:
            cached = json.loads(self._json)
            object.__setattr__(self, "_genes", cached)
        return cached

    @property
    def hash(self) -> str:
        """First 16 hex digits of the SHA-256 of the canonical JSON of space and genes."""
        digest = hashlib.sha256(f"{self.space}\n{self._json}".encode()).hexdigest()
        return digest[:16]

    def to_json(self) -> str:
        return _canonical({"space": self.space, "genes": self._genes_cached})

    @classmethod
    def from_json(cls, text: str) -> Design:
        data = json.loads(text)
        return cls.make(data["space"], data["genes"])

    def diff(self, other: Design) -> list[str]:
        """Readable changes that turn ``self`` into ``other``, one line each."""
        return diff_designs(self, other)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Design) and (self.space, self._json) == (other.space, other._json)

    def __hash__(self) -> int:
        return hash((self.space, self._json))


def describe(value: Any) -> str:
    """A short, readable form of a gene value: ``conv(width=32, kernel=3)`` for a typed dict."""
    if isinstance(value, dict):
        rest = {k: v for k, v in value.items() if k != "type"}
        inner = ", ".join(f"{k}={describe(v)}" for k, v in rest.items())
        return f"{value['type']}({inner})" if "type" in value else "{" + inner + "}"
    if isinstance(value, list):
        return "[" + ", ".join(describe(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _diff_values(path: str, old: Any, new: Any, out: list[str]) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else key
            if key not in old:
                out.append(f"{sub}: added {describe(new[key])}")
            elif key not in new:
                out.append(f"{sub}: removed {describe(old[key])}")
            else:
                _diff_values(sub, old[key], new[key], out)
        return
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):  # same length: element by element (a cell's edges)
            _diff_values(f"{path}[{i}]", a, b, out)
        return
    if isinstance(old, list) and isinstance(new, list) and (old or new):
        _diff_lists(path, old, new, out)
        return
    out.append(f"{path}: {describe(old)} -> {describe(new)}")


def _diff_lists(path: str, old: list[Any], new: list[Any], out: list[str]) -> None:
    # Align elements so that inserting a block reads as one insertion, not as every later block changing.
    matcher = difflib.SequenceMatcher(a=[_canonical(v) for v in old], b=[_canonical(v) for v in new])
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for k in range(i2 - i1):
                _diff_values(f"{path}[{i1 + k}]", old[i1 + k], new[j1 + k], out)
            continue
        for k in range(i1, i2):
            out.append(f"{path}[{k}]: removed {describe(old[k])}")
        for k in range(j1, j2):
            out.append(f"{path}[{k}]: inserted {describe(new[k])}")


def diff_designs(a: Design, b: Design) -> list[str]:
    """Readable changes from ``a`` to ``b``; empty when they are equal."""
    if a.space != b.space:
        return [f"space: {a.space} -> {b.space}"]
    out: list[str] = []
    _diff_values("", a._genes_cached, b._genes_cached, out)
    return out

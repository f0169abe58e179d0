"""The space of a user's program: the file as written, with only its marked regions free to change."""

from __future__ import annotations

import difflib
import hashlib
import json
import random
import re
from collections.abc import Sequence
from typing import Any

from evoforge.design import Design
from evoforge.spaces._base import Mutation, OperatorFn, Space

START, END = "# EVOLVE-BLOCK-START", "# EVOLVE-BLOCK-END"
_MARKER = re.compile(r"^\s*#\s*EVOLVE-BLOCK-(START|END)\b")

Lines = list[str]


def split_source(text: str, name: str = "the file") -> tuple[list[Lines], list[Lines]]:
    """``text`` as its frozen parts and its regions, alternating: ``frozen[0], regions[0], frozen[1], ...``; the
    marker lines belong to the frozen parts. Lines are split on ``\\n`` so that joining them gives ``text`` back.
    Raises ``ValueError`` naming the line when the markers do not pair up, or when there are none."""
    frozen: list[Lines] = [[]]
    regions: list[Lines] = []
    opened: int | None = None  # line number of the START of the region being read
    for number, line in enumerate(text.split("\n"), start=1):
        match = _MARKER.match(line)
        kind = match.group(1) if match else None
        if kind == "START" and opened is not None:
            raise ValueError(f"{name} line {number}: {START} inside the block opened at line {opened}")
        if kind == "END" and opened is None:
            raise ValueError(f"{name} line {number}: {END} without a {START} before it")
        if kind == "START":
            frozen[-1].append(line)
            regions.append([])
            opened = number
        elif kind == "END":
            frozen.append([line])
            opened = None
        elif opened is not None:
            regions[-1].append(line)
        else:
            frozen[-1].append(line)
    if opened is not None:
        raise ValueError(f"{name}: the EVOLVE block opened at line {opened} is never closed with {END}")
    if not regions:
        raise ValueError(f"{name} has no EVOLVE blocks: mark the code to evolve with {START} / {END} lines")
    return frozen, regions


def join_source(frozen: Sequence[Lines], regions: Sequence[Lines]) -> str:
    lines: Lines = []
    for i, part in enumerate(frozen):
        lines += part
        if i < len(regions):
            lines += regions[i]
    return "\n".join(lines)


class CodeSpace(Space):
    """Designs of one program: its genes are the lines of each marked region (``{"template": H, "regions":
    [[line, ...], ...]}``, H a hash of everything outside them), so a design's diff reads line by line and each
    region is a unit for attribution. The seed design is the file as written; there are no random operators: a
    language model proposes the changes (``proposer: llm``). ``allow_imports``: the modules the sandbox lets this
    program import (default: the sandbox's defaults), for the proposer to tell the model."""

    name = "code"
    operators: dict[str, OperatorFn] = {}

    def __init__(self, source: str, filename: str, allow_imports: Sequence[str] | None = None) -> None:
        if allow_imports is None:  # the sandbox's defaults
            from evoforge.sandbox import DEFAULT_IMPORTS

            allow_imports = sorted(DEFAULT_IMPORTS)
        self.filename = filename
        self.allow_imports = tuple(allow_imports)
        self.frozen, regions = split_source(source, filename)
        self.template = hashlib.sha256(json.dumps(self.frozen).encode()).hexdigest()[:16]
        self.seed = Design.make(self.name, {"template": self.template, "regions": regions})

    def sample(self, rng: random.Random) -> Design:
        """The file as written: the only design the space can name without a proposer's edit."""
        return self.seed

    def validate(self, design: Design) -> None:
        genes = design.view
        if design.space != self.name or set(genes) != {"template", "regions"}:
            raise ValueError(f"not a design of the code space: {sorted(genes)}")
        if genes["template"] != self.template:
            raise ValueError(f"this design was made for another version of {self.filename} (outside its blocks)")
        regions = genes["regions"]
        if not isinstance(regions, list) or len(regions) != len(self.frozen) - 1:
            raise ValueError(f"{self.filename} has {len(self.frozen) - 1} EVOLVE blocks; the design has another count")
        for i, region in enumerate(regions):
            _check_region(i, region)

    def render(self, design: Design) -> str:
        """The program's source text."""
        self.validate(design)
        return join_source(self.frozen, design.view["regions"])

    def design_of(self, source: str) -> Design:
        """The design whose rendering is ``source``; raises ``ValueError`` naming the first line that differs from
        the file outside its EVOLVE blocks, or a marker added, removed or unpaired."""
        frozen, regions = split_source(source, f"the edited {self.filename}")
        if len(frozen) != len(self.frozen):
            count = len(self.frozen) - 1
            raise ValueError(f"the edit adds or removes EVOLVE markers ({len(regions)} blocks, not {count})")
        for i, (mine, theirs) in enumerate(zip(self.frozen, frozen, strict=True)):
            if mine != theirs:
                where = _first_difference(i, mine, theirs)
                raise ValueError(f"the edit changes code outside the EVOLVE blocks: {where}")
        design = Design.make(self.name, {"template": self.template, "regions": regions})
        self.validate(design)
        return design

    def mutate(self, design: Design, rng: random.Random, operator: str | None = None) -> Mutation:
        raise ValueError("the code space has no random operators: a language model edits it (search.proposer: llm)")


def _check_region(i: int, region: Any) -> None:
    if not isinstance(region, list) or not all(isinstance(line, str) for line in region):
        raise ValueError(f"regions[{i}]: expected a list of lines (text)")
    for line in region:
        if "\n" in line:
            raise ValueError(f"regions[{i}]: a line holds a line break")
        if _MARKER.match(line):
            raise ValueError(f"regions[{i}]: holds an EVOLVE marker ({line.strip()})")


def _first_difference(part: int, mine: Lines, theirs: Lines) -> str:
    where = "before the first block" if part == 0 else f"after block {part}"
    matcher = difflib.SequenceMatcher(a=mine, b=theirs, autojunk=False)
    tag, i1, _, j1, _ = next(op for op in matcher.get_opcodes() if op[0] != "equal")
    if tag == "insert":
        return f"{where}, {theirs[j1].strip()!r} was added"
    if tag == "delete":
        return f"{where}, {mine[i1].strip()!r} was removed"
    return f"{where}, {mine[i1].strip()!r} became {theirs[j1].strip()!r}"

"""Search/replace edits in OpenEvolve's format, parsed from a model's reply and applied to a program:

    <<<<<<< SEARCH
    lines as they are in the program
    =======
    the lines to put in their place
    >>>>>>> REPLACE

An edit is accepted only when every SEARCH text is found exactly once and the result differs from the program
outside its EVOLVE blocks in nothing; otherwise it is refused with one line that says why."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from evoforge.design import Design
from evoforge.spaces._code import CodeSpace

_SEARCH = re.compile(r"^\s*<{5,9} ?SEARCH\s*$")
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_REPLACE = re.compile(r"^\s*>{5,9} ?REPLACE\s*$")


class EditError(ValueError):
    """A reply that cannot be applied: one line naming the problem, fed back to the model and recorded."""


@dataclass(frozen=True)
class Edit:
    search: tuple[str, ...]
    replace: tuple[str, ...]


def parse_edits(reply: str) -> list[Edit]:
    """Every SEARCH/REPLACE block of ``reply``, in order. Text around the blocks (an explanation, code fences) is
    ignored. Raises ``EditError`` when there is no block, a block is not closed, or a SEARCH text is empty."""
    edits: list[Edit] = []
    lines = reply.split("\n")
    i = 0
    while i < len(lines):
        if not _SEARCH.match(lines[i]):
            i += 1
            continue
        start = i
        search, i = _until(lines, i + 1, _DIVIDER, start, "=======")
        replace, i = _until(lines, i + 1, _REPLACE, start, ">>>>>>> REPLACE")
        if not any(line.strip() for line in search):
            raise EditError(f"block {len(edits) + 1} has an empty SEARCH text; quote the lines to replace")
        edits.append(Edit(tuple(search), tuple(replace)))
        i += 1
    if not edits:
        raise EditError("the reply has no <<<<<<< SEARCH / ======= / >>>>>>> REPLACE block")
    return edits


def _until(lines: list[str], i: int, end: re.Pattern[str], start: int, name: str) -> tuple[list[str], int]:
    out = []
    while i < len(lines) and not end.match(lines[i]):
        if _SEARCH.match(lines[i]):
            break
        out.append(lines[i])
        i += 1
    if i >= len(lines) or not end.match(lines[i]):
        raise EditError(f"the block opened on line {start + 1} of the reply has no {name} line")
    return out, i


def apply_edits(source: str, edits: list[Edit]) -> str:
    """``source`` with each edit made in turn (each SEARCH text must occur exactly once in the text so far, line for
    line; trailing spaces do not count). Raises ``EditError`` naming the first edit that does not apply."""
    lines = source.split("\n")
    for n, edit in enumerate(edits, start=1):
        found = _find(lines, edit.search)
        first = next(line.strip() for line in edit.search if line.strip())
        if not found:
            raise EditError(f"block {n}: the SEARCH text is not in the program (it starts {first!r})")
        if len(found) > 1:
            raise EditError(f"block {n}: the SEARCH text occurs {len(found)} times (it starts {first!r}); quote more")
        at = found[0]
        lines[at : at + len(edit.search)] = list(edit.replace)
    out = "\n".join(lines)
    if out == source:
        raise EditError("the edit changes nothing")
    return out


def _find(lines: list[str], search: tuple[str, ...]) -> list[int]:
    want = [line.rstrip() for line in search]
    n = len(want)
    stripped = [line.rstrip() for line in lines]
    return [i for i in range(len(lines) - n + 1) if stripped[i : i + n] == want]


def apply_reply(space: CodeSpace, parent: Design, reply: str) -> Design:
    """The design made by applying the reply's edits to ``parent``; ``EditError`` when the reply holds no edit that
    applies, or its edits change anything outside the EVOLVE blocks."""
    source = apply_edits(space.render(parent), parse_edits(reply))
    try:
        return space.design_of(source)
    except ValueError as exc:
        raise EditError(str(exc)) from None


def unified_diff(space: CodeSpace, parent: Design, child: Design, context: int = 2) -> str:
    """The change from ``parent`` to ``child`` as a unified diff of the rendered file."""
    name = space.filename
    old, new = space.render(parent).split("\n"), space.render(child).split("\n")
    lines = difflib.unified_diff(old, new, f"a/{name}", f"b/{name}", n=context, lineterm="")
    return "\n".join(lines)


def static_check(space: CodeSpace, design: Design) -> str | None:
    """The first thing the sandbox's static check refuses in ``design``'s program (as the task will run it, with the
    space's allowed imports), or None. Recorded with the proposal so that the model is later told why it failed."""
    from evoforge.sandbox import check_source

    found = check_source(space.render(design), space.allow_imports, filename=space.filename)
    return found[0] if found else None


def summary(reply: str, limit: int = 120) -> str:
    """The first line of prose in ``reply`` (outside the edit blocks and code fences), for a trial's rationale."""
    fence = block = False
    for line in reply.split("\n"):
        text = line.strip()
        if text.startswith("```"):
            fence = not fence
        elif _SEARCH.match(line) or _REPLACE.match(line):
            block = _SEARCH.match(line) is not None
        elif text and not fence and not block:
            text = text.lstrip("#*-> ").strip()
            if text:
                return text if len(text) <= limit else text[: limit - 3] + "..."
    return "an edit proposed by the language model"

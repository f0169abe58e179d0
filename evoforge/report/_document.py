"""The report as a short list of plain blocks, so the HTML and the Markdown renderers show the same content and
escaping happens in one place per format (every string here may come from the store)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    level: int  # 1 = the title
    text: str


@dataclass(frozen=True)
class Text:
    text: str
    alarm: bool = False  # shown prominently: a broken audit chain, a case waiting for a person


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]
    code: bool = False  # each item is a verbatim line (a design diff), not prose


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Figure:
    file: str  # the PNG's name next to the report
    title: str
    caption: str
    png: bytes


Block = Heading | Text | Bullets | Table | Figure

"""The report as a Markdown summary that points at the PNG files next to it. Text from the store is escaped just
enough that it cannot turn into links, HTML, emphasis or table cells, while the raw file stays readable."""

from __future__ import annotations

import re

from evoforge.report._document import Block, Bullets, Figure, Heading, Table, Text

# Backslash, backtick, asterisk and pipe anywhere; "](" or "][" that would close a link; "<" that could open a
# tag or an autolink; "_" at a word's edge (inside a word, as in nor_conv_3x3, it never emphasizes). Lines never
# start with store text (each block opens with the report's own words), so line-start markers need no escape.
_SPECIAL = re.compile(r"[\\`*|]|\](?=[(\[])|<(?=[A-Za-z/!?])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def escape(text: str) -> str:
    return _SPECIAL.sub(lambda m: "\\" + m.group(), " ".join(text.split()))


def code(text: str) -> str:
    """A code span; text holding backticks gets a longer fence, as CommonMark allows."""
    flat = " ".join(text.split())
    fence = "``" if "`" in flat else "`"
    return f"{fence} {flat} {fence}" if fence == "``" else f"`{flat}`"


def render_markdown(blocks: list[Block]) -> str:
    return "\n\n".join(_block(b) for b in blocks) + "\n"


def _block(b: Block) -> str:
    if isinstance(b, Heading):
        return "#" * b.level + " " + escape(b.text)
    if isinstance(b, Text):
        return f"**{escape(b.text)}**" if b.alarm else escape(b.text)
    if isinstance(b, Bullets):
        return "\n".join(f"- {code(i) if b.code else escape(i)}" for i in b.items)
    if isinstance(b, Table):
        return _table(b)
    return _figure(b)


def _table(t: Table) -> str:
    lines = ["| " + " | ".join(escape(h) for h in t.headers) + " |", "|" + "---|" * len(t.headers)]
    lines += ["| " + " | ".join(escape(c) or " " for c in row) + " |" for row in t.rows]
    return "\n".join(lines)


def _figure(f: Figure) -> str:
    return f"![{escape(f.title)}]({f.file})\n\n*{escape(f.title)}.* {escape(f.caption)}"

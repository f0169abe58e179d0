"""The report as one self-contained HTML page: inline CSS, figures as data URIs, no scripts and no external
resources, so it opens anywhere and can be mailed or archived as a single file. Every string is escaped."""

from __future__ import annotations

import base64
from html import escape

from evoforge.report._document import Block, Bullets, Figure, Heading, Table, Text

STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; max-width: 68rem;
       margin: 2rem auto; padding: 0 1rem; }
h1 { border-bottom: 2px solid #ddd; padding-bottom: .3rem; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid #eee; }
h3 { margin-top: 1.8rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: 14px; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: left; vertical-align: top; }
thead th { background: #f4f4f4; }
tbody th { font-weight: 600; background: #fafafa; white-space: nowrap; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f4f4f4; padding: 0 .2rem; }
ul.code { list-style: none; padding-left: 1rem; margin-top: 0; }
figure { margin: 1.2rem 0; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { color: #555; font-size: 14px; }
.alarm { background: #fdecea; border-left: 4px solid #d62728; padding: .5rem .8rem; font-weight: 600; }
"""


def render_html(title: str, blocks: list[Block]) -> str:
    body = "\n".join(_block(b) for b in blocks)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _block(b: Block) -> str:
    if isinstance(b, Heading):
        return f"<h{b.level}>{escape(b.text)}</h{b.level}>"
    if isinstance(b, Text):
        return f'<p class="alarm">{escape(b.text)}</p>' if b.alarm else f"<p>{escape(b.text)}</p>"
    if isinstance(b, Bullets):
        items = "".join(f"<li>{_code(i) if b.code else escape(i)}</li>" for i in b.items)
        return f'<ul class="code">{items}</ul>' if b.code else f"<ul>{items}</ul>"
    if isinstance(b, Table):
        return _table(b)
    return _figure(b)


def _code(text: str) -> str:
    return f"<code>{escape(text)}</code>"


def _table(t: Table) -> str:
    """A table whose headers are all blank is a list of (name, value) pairs: its first column becomes row headers."""
    pairs = not any(t.headers)
    head = "" if pairs else "<thead><tr>" + "".join(f"<th>{escape(h)}</th>" for h in t.headers) + "</tr></thead>"
    rows = []
    for row in t.rows:
        first = f'<th scope="row">{escape(row[0])}</th>' if pairs else f"<td>{escape(row[0])}</td>"
        rows.append("<tr>" + first + "".join(f"<td>{escape(c)}</td>" for c in row[1:]) + "</tr>")
    return f"<table>{head}<tbody>{''.join(rows)}</tbody></table>"


def _figure(f: Figure) -> str:
    data = base64.b64encode(f.png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{escape(f.title)}">'
        f"<figcaption><strong>{escape(f.title)}.</strong> {escape(f.caption)}</figcaption></figure>"
    )

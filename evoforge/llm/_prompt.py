"""The messages sent to the model, filled from the plain-text templates in ``prompts/`` (``$name`` placeholders,
so code with braces needs no escaping)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from string import Template

from evoforge.llm._client import Message

SCORE_MEANING = "the study's objectives in order, each signed so that higher is better"
NONE_YET = "(none yet)"


@cache
def template(name: str) -> Template:
    """The prompt template ``prompts/{name}.txt`` shipped with evoforge."""
    text = resources.files("evoforge.llm").joinpath(f"prompts/{name}.txt").read_text(encoding="utf-8")
    return Template(text)


@dataclass(frozen=True)
class Attempt:
    """One earlier proposal as the model is shown it: which trial it became, from which parent, what it changed
    (a unified diff) and how it came out (``score 0.93``, ``refused by the sandbox: ...``, ``not finished yet``)."""

    trial: int
    parent: int | None
    rationale: str
    diff: str
    outcome: str


@dataclass(frozen=True)
class Context:
    """Everything a prompt says: the current program and its score, how it came about (its ancestors, oldest
    first), the best other programs (trial, score, diff from the current one), and the recent attempts."""

    filename: str
    code: str
    parent: int
    score: str
    lineage: Sequence[str]
    best: Sequence[tuple[int, str, str]]
    tried: Sequence[Attempt]
    allowed_imports: Sequence[str]


def messages(context: Context, max_diff_lines: int = 40) -> list[Message]:
    """The system and user messages of a first request for an edit."""
    c = context
    system = template("system").substitute(allowed_imports=", ".join(sorted(c.allowed_imports)) or "none")
    best = [f"## trial #{n}, score {score}\n{_clip(diff, max_diff_lines)}" for n, score, diff in c.best]
    user = template("user").substitute(
        filename=c.filename,
        parent=c.parent,
        score=c.score,
        code=c.code,
        score_meaning=SCORE_MEANING,
        lineage="\n".join(c.lineage) or NONE_YET,
        best="\n\n".join(best) or NONE_YET,
        tried="\n\n".join(_attempt(a, max_diff_lines) for a in c.tried) or NONE_YET,
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def retry(reply: str, reason: str) -> list[Message]:
    """The turns that follow a reply that could not be used: the reply itself and why it was refused."""
    return [
        {"role": "assistant", "content": reply},
        {"role": "user", "content": template("retry").substitute(reason=reason)},
    ]


def _attempt(a: Attempt, max_diff_lines: int) -> str:
    origin = f" from #{a.parent}" if a.parent is not None else ""
    return f"## trial #{a.trial}{origin}: {a.rationale} -> {a.outcome}\n{_clip(a.diff, max_diff_lines)}"


def _clip(diff: str, max_lines: int) -> str:
    lines = diff.split("\n")
    if len(lines) <= max_lines:
        return diff
    return "\n".join([*lines[:max_lines], f"... ({len(lines) - max_lines} more diff lines)"])


def format_score(values: Sequence[float] | None) -> str:
    if values is None:
        return "none (it failed, or broke a constraint)"
    return ", ".join(f"{v:.6g}" for v in values)

"""What a language-model proposer remembers: every program proposed, where it came from and how it came out, and
what the model cost. Everything here is rebuilt from the proposals' stored ``info`` by replaying ``tell``."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from evoforge.design import Design
from evoforge.llm._client import Reply
from evoforge.llm._edits import EditError, unified_diff
from evoforge.llm._prompt import Attempt, Context, format_score
from evoforge.spaces._code import CodeSpace


@dataclass(frozen=True)
class Spend:
    """Requests sent (retries included), tokens, cost in USD and replies that could not be used."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    malformed: int = 0
    estimated: bool = False  # some token counts are estimates (the endpoint reported no usage)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def plus(self, other: Spend) -> Spend:
        values = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self) if f.name != "estimated"}
        return Spend(**values, estimated=self.estimated or other.estimated)

    @classmethod
    def of(cls, reply: Reply) -> Spend:
        u = reply.usage
        return cls(reply.requests, u.prompt_tokens, u.completion_tokens, u.cost_usd, 0, u.estimated)

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"tokens": self.tokens}

    @classmethod
    def from_dict(cls, data: Any) -> Spend:
        if not isinstance(data, dict):
            return cls()
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass
class Entry:
    number: int
    design: Design
    parent: int | None
    rationale: str
    diff: str
    llm: bool
    refusal: str | None = None  # what the sandbox's static check refuses in it, if anything
    values: tuple[float, ...] | None = None
    finished: bool = False

    @property
    def outcome(self) -> str:
        if not self.finished:
            return "not finished yet"
        if self.values is not None:
            return f"score {format_score(self.values)}"
        return f"refused by the sandbox: {self.refusal}" if self.refusal else "failed or broke a constraint"


class History:
    """The proposer's memory. ``parent_pool``: the parent is drawn from this many best programs (the best most
    often); ``inspirations``: other good programs shown; ``recent``: earlier attempts shown."""

    def __init__(self, space: CodeSpace, parent_pool: int, inspirations: int, recent: int) -> None:
        self.space = space
        self.parent_pool, self.inspirations, self.recent = parent_pool, inspirations, recent
        self.entries: dict[int, Entry] = {}
        self.spent: dict[int, Spend] = {}
        self.lost = Spend()  # spent on proposals that never became a trial (this run only: nothing stores them)

    @property
    def empty(self) -> bool:
        return not self.entries

    @property
    def proposals(self) -> int:
        return sum(e.llm for e in self.entries.values())

    def asked(self, number: int, design: Design, parents: Sequence[int], rationale: str, info: dict[str, Any]) -> None:
        parent = parents[0] if parents else None
        llm = info.get("route") == "llm"
        refusal = info.get("static_check")
        entry = Entry(number, design, parent, rationale, str(info.get("diff", "")), llm, refusal)
        self.entries[number] = entry
        self.spent[number] = Spend.from_dict(info.get("spend"))

    def told(self, number: int, values: tuple[float, ...] | None) -> None:
        entry = self.entries[number]
        entry.values, entry.finished = values, True

    def total(self) -> Spend:
        out = self.lost
        for spend in self.spent.values():
            out = out.plus(spend)
        return out

    def design(self, number: int) -> Design:
        return self.entries[number].design

    def check_new(self, design: Design) -> None:
        """Refuse a program proposed before: it would be a duplicate trial, and the model should try another idea."""
        for e in self.entries.values():
            if e.design == design:
                raise EditError(f"the edit gives the program of trial #{e.number}, which was already tried")

    def ranked(self) -> list[Entry]:
        scored = [e for e in self.entries.values() if e.values is not None]
        return sorted(scored, key=lambda e: (tuple(-v for v in e.values or ()), e.number))

    def parent(self, rng: random.Random) -> int | None:
        """A parent among the best ``parent_pool`` programs, weighted 1, 1/2, 1/3 ... by rank; while none has a
        result, the first program (it may still be running); None when every program finished without a result."""
        pool = self.ranked()[: self.parent_pool]
        if pool:
            return rng.choices([e.number for e in pool], weights=[1 / (i + 1) for i in range(len(pool))])[0]
        if all(e.finished for e in self.entries.values()):
            return None
        return min(self.entries)

    def context(self, parent: int) -> Context:
        """What the prompt shows about ``parent`` and the study so far."""
        current = self.entries[parent]
        others = [e for e in self.ranked() if e.number != parent][: self.inspirations]
        best = [(e.number, format_score(e.values), unified_diff(self.space, current.design, e.design)) for e in others]
        recent = [e for e in sorted(self.entries.values(), key=lambda e: e.number) if e.llm][-self.recent :]
        tried = [Attempt(e.number, e.parent, e.rationale, e.diff, e.outcome) for e in recent] if self.recent else []
        return Context(
            filename=self.space.filename,
            code=self.space.render(current.design),
            parent=parent,
            score=format_score(current.values),
            lineage=[self._step(e) for e in self._ancestry(parent)],
            best=best,
            tried=tried,
            allowed_imports=self.space.allow_imports,
        )

    def _ancestry(self, number: int) -> list[Entry]:
        chain: list[Entry] = []
        current: int | None = number
        while current is not None and current in self.entries and len(chain) < 8:
            chain.append(self.entries[current])
            current = self.entries[current].parent
        return chain[::-1]

    @staticmethod
    def _step(e: Entry) -> str:
        origin = f" from #{e.parent}" if e.parent is not None else ""
        return f"- trial #{e.number}{origin}: {e.rationale} -> {e.outcome}"

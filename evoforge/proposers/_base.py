from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evoforge._errors import EvoforgeError
from evoforge.design import Design
from evoforge.goal import Search
from evoforge.spaces import Space

Values = tuple[float, ...]  # one value per objective, higher is better


class ProposerExhausted(EvoforgeError):
    """Raised by ``ask`` when the proposer can propose nothing more (a cap on its language-model requests, tokens or
    cost is reached, or its endpoint keeps failing). The study stops proposing cleanly, with this message as the
    reason, and lets the trials in flight finish."""


@dataclass(frozen=True)
class Proposal:
    """A design to try, the trial numbers it came from, the operator applied, a one-line rationale, and what else
    the proposer wants recorded (``info``: its prediction for the design, which of its routes made it)."""

    design: Design
    parents: tuple[int, ...]
    operator: str | None
    rationale: str
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Told:
    """One finished trial of an earlier study, for ``Proposer.warm_start``."""

    number: int
    design: Design
    values: Values | None
    proposal: Proposal


class Proposer(ABC):
    """Decides what to try next. It never trains anything.

    Contract: ``ask(number)`` proposes trial ``number`` and is deterministic given the proposer's seed, ``number``
    and what it was told before; ``tell`` gives it a finished trial's design and objective values (one per
    objective, each oriented so that higher is better; None when the trial failed or broke a constraint).
    Replaying ``tell`` over a study's finished trials in the order they finished rebuilds the proposer's state, so
    a resumed study behaves like one that never stopped; ``tell`` also gets the trial's ``Proposal`` as recorded
    (parents, operator, info), so credit for what made a child can be rebuilt the same way.
    """

    name: str

    def __init__(self, space: Space, seed: int, start_from: Design | None = None) -> None:
        self.space = space
        self.seed = seed
        self.start_from = start_from

    @classmethod
    def from_search(cls, search: Search, space: Space, start_from: Design | None = None) -> Proposer:
        """Build from the goal's ``search`` section; proposers with options of their own override this."""
        return cls(space, search.seed, start_from)

    def rng(self, number: int) -> random.Random:
        return random.Random(f"{self.seed}:{number}")

    @abstractmethod
    def ask(self, number: int) -> Proposal:
        """The design for trial ``number``."""

    def tell(  # noqa: B027 - optional
        self, number: int, design: Design, values: Values | None, proposal: Proposal | None = None
    ) -> None:
        """Learn from a finished trial; ignored by proposers that keep no state."""

    def warm_start(self, studies: Sequence[Sequence[Told]]) -> None:  # noqa: B027 - optional
        """Start from what earlier studies learned (``search.transfer_from``); ignored by proposers that learn
        nothing."""

    def insights(self) -> dict[str, Any]:
        """What the proposer has learned, for ``status`` and ``lineage`` (operator weights, predictor fit)."""
        return {}

    def _start(self, number: int) -> Proposal | None:
        if self.start_from is not None and number == 0:
            return Proposal(self.start_from, (), None, "the goal's starting design")
        return None

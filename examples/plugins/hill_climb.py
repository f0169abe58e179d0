"""A proposer of one's own, plugged into evoforge by import path: first-improvement hill climbing with restarts.

    search: {proposer: "hill_climb:HillClimb", options: {patience: 8}}

It proposes a mutation of the best design found since the last restart; after ``patience`` children in a row that
do not beat it, it restarts from a random design. Its whole state comes from what it was told, in order, so a
resumed study (which tells it the study's history again) proposes as one that never stopped.
"""

from __future__ import annotations

from evoforge.design import Design
from evoforge.goal import Search
from evoforge.proposers import Proposal, Proposer
from evoforge.proposers._base import Values
from evoforge.spaces import Space


class HillClimb(Proposer):
    name = "hill_climb"

    def __init__(self, space: Space, seed: int, start_from: Design | None = None, *, patience: int = 8) -> None:
        super().__init__(space, seed, start_from)
        if patience < 1:
            raise ValueError(f"patience: expected 1 or more, got {patience}")
        self.patience = patience
        self.best: tuple[int, Design, float] | None = None  # (trial, design, first objective, higher is better)
        self.stale = 0  # children in a row that did not beat the best

    @classmethod
    def from_search(cls, search: Search, space: Space, start_from: Design | None = None) -> HillClimb:
        return cls(space, search.seed, start_from, **search.options)

    def tell(self, number: int, design: Design, values: Values | None, proposal: Proposal | None = None) -> None:
        # State changes only here (never in ``ask``), so replaying what it was told rebuilds it exactly.
        if proposal is not None and not proposal.parents and self.stale >= self.patience:
            self.best, self.stale = None, 0  # the restart it asked for has come back: climb from there
        if values is not None and (self.best is None or values[0] > self.best[2]):
            self.best, self.stale = (number, design, values[0]), 0
        elif proposal is not None and proposal.parents:
            self.stale += 1

    def ask(self, number: int) -> Proposal:
        start = self._start(number)
        if start is not None:
            return start
        rng = self.rng(number)
        if self.best is None or self.stale >= self.patience:
            return Proposal(self.space.sample(rng), (), None, "random restart")
        parent, design, value = self.best
        mutation = self.space.mutate(design, rng)
        return Proposal(
            mutation.design, (parent,), mutation.operator, f"{mutation.rationale} (from the best, #{parent})"
        )

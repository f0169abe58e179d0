from __future__ import annotations

from evoforge.proposers._base import Proposal, Proposer


class RandomProposer(Proposer):
    """Samples every design independently and uniformly from the space's sampler."""

    name = "random"

    def ask(self, number: int) -> Proposal:
        return self._start(number) or Proposal(self.space.sample(self.rng(number)), (), None, "random sample")

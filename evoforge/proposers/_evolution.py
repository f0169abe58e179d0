from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

from evoforge.design import Design
from evoforge.goal import Search
from evoforge.pareto import crowding_distance, non_dominated_sort
from evoforge.proposers._base import Proposal, Proposer, Values
from evoforge.spaces import Mutation, Space


@dataclass(frozen=True)
class Member:
    number: int
    design: Design
    values: Values


class EvolutionProposer(Proposer):
    """Regularized (aging) evolution (Real et al., 2019).

    Until ``population`` trials have scored, it proposes random designs (or one to three chained mutations of the
    goal's starting design). Then each proposal mutates the winner of a tournament among ``tournament`` members
    drawn from the ``population`` most recently finished trials: the oldest drop out, whatever their score.
    With several objectives the tournament is won as in NSGA-II: lowest Pareto rank within the population, then
    the largest crowding distance (the loneliest point of the front), so the search spreads along the front.
    With ``crossover`` > 0 and a space that can cross two designs (programs), that share of proposals combines the
    winners of two tournaments instead of mutating one.
    """

    name = "evolution"

    def __init__(
        self,
        space: Space,
        seed: int,
        start_from: Design | None = None,
        *,
        population: int = 16,
        tournament: int | None = None,
        crossover: float = 0.0,
    ) -> None:
        super().__init__(space, seed, start_from)
        if not 0.0 <= crossover <= 1.0:
            raise ValueError(f"search.options.crossover: a probability in [0, 1], got {crossover}")
        self.crossover = crossover
        self.population: deque[Member] = deque(maxlen=population)
        self.tournament = min(tournament or max(2, population // 2), population)
        self._seen: set[str] = set()  # canonical functions proposed or told (see Space.canonical)

    @classmethod
    def from_search(cls, search: Search, space: Space, start_from: Design | None = None) -> EvolutionProposer:
        return cls(space, search.seed, start_from, **search.proposer_options())

    def tell(self, number: int, design: Design, values: Values | None, proposal: Proposal | None = None) -> None:
        self._seen.add(self.space.canonical(design))
        if values is not None:
            self.population.append(Member(number, design, tuple(values)))

    def ask(self, number: int) -> Proposal:
        start = self._start(number)
        if start is not None:
            return start
        rng = self.rng(number)
        if len(self.population) < (self.population.maxlen or 0):
            return self._initial(rng)
        members = list(self.population)
        parent = members[tournament([m.values for m in members], self.tournament, rng)]
        if self.crossover and rng.random() < self.crossover:
            other = members[tournament([m.values for m in members], self.tournament, rng)]
            child = self.space.crossover(parent.design, other.design, rng) if other is not parent else None
            if child is not None and self.space.canonical(child.design) not in self._seen:
                why = f"{child.rationale} (parents #{parent.number} and #{other.number} won tournaments)"
                return self._note(Proposal(child.design, (parent.number, other.number), child.operator, why))
        mutation = self._fresh_mutation(parent.design, rng)
        why = f"{mutation.rationale} (parent #{parent.number} won a tournament of {self.tournament})"
        return self._note(Proposal(mutation.design, (parent.number,), mutation.operator, why))

    def _initial(self, rng: random.Random) -> Proposal:
        # From a starting design, half the first population spreads around it (one to three chained mutations) and
        # half is sampled at random: the start may be poor, and the search should not be confined near it.
        if self.start_from is None or rng.random() < 0.5:
            design = self.space.sample(rng)
            for _ in range(100):  # something new, where the space has it
                if self.space.canonical(design) not in self._seen:
                    break
                design = self.space.sample(rng)
            return self._note(Proposal(design, (), None, "random sample for the first population"))
        mutation = self.space.mutate_chain(self.start_from, rng, rng.randint(1, 3))
        why = f"{mutation.rationale} (first population, from the starting design)"
        return self._note(Proposal(mutation.design, (0,), mutation.operator, why))

    def _fresh_mutation(self, design: Design, rng: random.Random) -> Mutation:
        # Prefer a child that computes something not tried before: a repeat only re-measures noise.
        mutation = self.space.mutate(design, rng)
        for _ in range(20):
            if self.space.canonical(mutation.design) not in self._seen:
                break
            mutation = self.space.mutate(design, rng)
        return mutation

    def _note(self, proposal: Proposal) -> Proposal:
        self._seen.add(self.space.canonical(proposal.design))
        return proposal


def tournament(points: list[Values], size: int, rng: random.Random) -> int:
    """The index of the winner of a tournament of ``size`` points drawn without replacement (see ``_fitness``)."""
    fitness = _fitness(points)
    contestants = rng.sample(range(len(points)), min(size, len(points)))
    return max(contestants, key=lambda i: fitness[i])


def _fitness(points: list[Values]) -> list[tuple[float, float]]:
    """A sort key per point (higher wins): the value itself for one objective; for several, NSGA-II's order of
    Pareto rank, then crowding distance among the points of the same rank."""
    if len(points[0]) == 1:
        return [(p[0], 0.0) for p in points]
    ranks = non_dominated_sort(points)
    crowding = [0.0] * len(points)
    for rank in set(ranks):
        same = [i for i, r in enumerate(ranks) if r == rank]
        for i, d in zip(same, crowding_distance([points[i] for i in same]), strict=True):
            crowding[i] = d
    return [(-float(r), c) for r, c in zip(ranks, crowding, strict=True)]

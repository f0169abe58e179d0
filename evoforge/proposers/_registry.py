from __future__ import annotations

from evoforge._errors import GoalError
from evoforge.design import Design
from evoforge.proposers._base import Proposer
from evoforge.proposers._evolution import EvolutionProposer
from evoforge.proposers._random import RandomProposer
from evoforge.spaces import Space

PROPOSERS = ("evolution", "random")


def make_proposer(
    name: str,
    space: Space,
    *,
    seed: int,
    population: int,
    tournament: int | None,
    start_from: Design | None = None,
) -> Proposer:
    if name == "evolution":
        return EvolutionProposer(space, seed, start_from, population=population, tournament=tournament)
    if name == "random":
        return RandomProposer(space, seed, start_from)
    raise GoalError(f"search.proposer: unknown proposer {name!r} (known: {', '.join(PROPOSERS)})")

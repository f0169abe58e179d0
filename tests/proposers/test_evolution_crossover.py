"""Crossover in regularized evolution: a share of proposals combines two tournament winners, in spaces that can."""

from __future__ import annotations

import pytest

from evoforge.proposers import EvolutionProposer
from evoforge.spaces import NB201Space, ProgramSpace


def _fill(proposer: EvolutionProposer, count: int) -> None:
    for n in range(count):
        proposal = proposer.ask(n)
        proposer.tell(n, proposal.design, (float(n % 5),), proposal)


def test_crossover_proposals_have_two_parents_and_are_valid_programs() -> None:
    space = ProgramSpace()
    proposer = EvolutionProposer(space, seed=1, population=6, crossover=1.0)
    _fill(proposer, 6)
    crossed = [proposer.ask(n) for n in range(6, 30)]
    children = [p for p in crossed if p.operator == "crossover"]
    assert children, "with crossover 1.0 most proposals should cross two parents"
    for p in children:
        assert len(p.parents) == 2 and p.parents[0] != p.parents[1]
        space.validate(p.design)


def test_without_crossover_every_proposal_is_a_mutation_of_one_parent() -> None:
    proposer = EvolutionProposer(ProgramSpace(), seed=1, population=6)
    _fill(proposer, 6)
    assert all(len(proposer.ask(n).parents) == 1 for n in range(6, 20))


def test_a_space_without_crossover_falls_back_to_mutation() -> None:
    proposer = EvolutionProposer(NB201Space(), seed=0, population=4, crossover=1.0)
    _fill(proposer, 4)
    assert all(proposer.ask(n).operator != "crossover" for n in range(4, 12))


def test_crossover_share_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match=r"search.options.crossover: a probability in \[0, 1\]"):
        EvolutionProposer(ProgramSpace(), seed=0, crossover=1.5)

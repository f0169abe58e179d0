"""Proposers decide what to try next (ask / tell); they never train anything."""

from evoforge.proposers._base import Proposal, Proposer
from evoforge.proposers._evolution import EvolutionProposer
from evoforge.proposers._random import RandomProposer
from evoforge.proposers._registry import PROPOSERS, make_proposer, proposer_class

__all__ = [
    "PROPOSERS",
    "EvolutionProposer",
    "Proposal",
    "Proposer",
    "RandomProposer",
    "make_proposer",
    "proposer_class",
]

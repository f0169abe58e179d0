"""Proposers decide what to try next (ask / tell); they never train anything."""

from evoforge.proposers._base import Proposal, Proposer, ProposerExhausted, Told
from evoforge.proposers._credit import Credit
from evoforge.proposers._evolution import EvolutionProposer
from evoforge.proposers._guided import GuidedProposer
from evoforge.proposers._random import RandomProposer
from evoforge.proposers._registry import PROPOSER_PARTS, PROPOSERS, make_proposer, proposer_class

__all__ = [
    "PROPOSERS",
    "PROPOSER_PARTS",
    "Credit",
    "EvolutionProposer",
    "GuidedProposer",
    "Proposal",
    "Proposer",
    "ProposerExhausted",
    "RandomProposer",
    "Told",
    "make_proposer",
    "proposer_class",
]

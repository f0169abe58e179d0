from __future__ import annotations

from evoforge._registry import Registry
from evoforge.design import Design
from evoforge.goal import Search
from evoforge.proposers._base import Proposer
from evoforge.spaces import Space

# name -> "module:Class", imported only when used. A new proposer is one module plus one line here; a goal may also
# name any Proposer subclass by import path or by an entry point in the group ``evoforge.proposers``.
PROPOSERS = {
    "evolution": "evoforge.proposers._evolution:EvolutionProposer",
    "guided": "evoforge.proposers._guided:GuidedProposer",
    "llm": "evoforge.proposers._llm:LLMProposer",
    "random": "evoforge.proposers._random:RandomProposer",
}
PROPOSER_PARTS = Registry("proposer", "search.proposer", Proposer, PROPOSERS)


def proposer_class(name: str) -> type[Proposer]:
    return PROPOSER_PARTS.load(name)  # type: ignore[return-value]


def make_proposer(search: Search, space: Space, start_from: Design | None = None) -> Proposer:
    """The proposer the goal's ``search`` section names, configured from that section."""
    if search.proposer is None:
        raise ValueError("make_proposer needs a resolved search section (evoforge.profiles.resolve)")
    return proposer_class(search.proposer).from_search(search, space, start_from)

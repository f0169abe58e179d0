from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from evoforge.design import Design

Genes = dict[str, Any]
# An operator takes a copy of the parent's genes and the space, and returns the child's genes and a one-line
# rationale, or None when it does not apply to this parent (e.g. ``remove_block`` on a network with no blocks).
OperatorFn = Callable[[Genes, random.Random, "Space"], "tuple[Genes, str] | None"]


@dataclass(frozen=True)
class Mutation:
    """A child design, the named operator that made it, and why."""

    design: Design
    operator: str
    rationale: str


class Space(ABC):
    """A set of designs: how to sample one, how to change one, and whether one is valid.

    Contract: ``sample`` and ``mutate`` return only designs that ``validate`` accepts; both are deterministic
    given the ``random.Random`` passed in; neither trains anything.
    """

    name: str
    operators: Mapping[str, OperatorFn]
    version: int = 0  # a space that learns (``observe``) changes it whenever its encodings change

    @property
    def waiting(self) -> bool:
        """True while the space cannot propose anything new before a running trial's result teaches it (a space
        learned from what an objective asks for, before its first trial comes back); then no trial is proposed
        while one runs."""
        return False

    def observe(self, design: Design, info: Mapping[str, Any]) -> None:  # noqa: B027 - fixed spaces learn nothing
        """Learn from a finished trial (its design and what it recorded), in the order trials finish; a resumed
        study replays the same calls. Fixed spaces ignore it."""

    @abstractmethod
    def sample(self, rng: random.Random) -> Design:
        """A design drawn at random from the space."""

    @abstractmethod
    def validate(self, design: Design) -> None:
        """Raise ``ValueError`` naming the problem when ``design`` is not in this space."""

    def static_metrics(self, design: Design, batch: int = 1) -> dict[str, float]:
        """Metrics known before any training (e.g. ``params``), for inference over ``batch`` inputs where that
        matters; empty by default. A measured metric given here (``peak_memory_mb``) is a lower bound of what
        training will measure, so a design it rules out would have been ruled out after training too."""
        return {}

    def canonical(self, design: Design) -> str:
        """A key shared by designs that compute the same function (isomorphic cells, dead branches, genes that
        cannot matter), so the same thing is never trained twice. By default the design's own hash."""
        return design.hash

    def features(self, design: Design) -> list[float]:
        """A fixed-length numeric encoding of ``design`` for learned predictors (one-hot categories, scaled
        numbers, path encodings for cells). Spaces that support predictor-guided search override this."""
        raise NotImplementedError(f"the {self.name} space has no numeric encoding for a learned predictor")

    def enumerate(self, limit: int) -> list[Design] | None:
        """Every design of the space, one per function (``canonical``), when there are at most ``limit`` of them;
        None when the space is larger or cannot be listed. Lets a proposer maximize over the whole space."""
        return None

    def smallest(self) -> Design | None:
        """The design with the lowest static metrics, for telling whether a constraint can be met at all."""
        return None

    def largest(self) -> Design | None:
        """The design with the highest static metrics, for telling whether a ``min`` bound can be met at all."""
        return None

    def crossover(self, a: Design, b: Design, rng: random.Random) -> Mutation | None:
        """A child combining two parents (operator ``crossover``), valid and different from both; None when the
        space has no crossover or this draw made no valid child. By default spaces have none."""
        return None

    def mutate(self, design: Design, rng: random.Random, operator: str | None = None) -> Mutation:
        """Apply ``operator`` (or a random applicable one) to ``design``; the child differs from the parent."""
        names = [operator] if operator else list(self.operators)
        rng.shuffle(names)
        for _ in range(50):
            for name in names:
                made = self.operators[name](design.genes, rng, self)
                if made is None:
                    continue
                child = Design.make(self.name, made[0])
                if child != design and self._is_valid(child):
                    return Mutation(child, name, made[1])
        raise ValueError(f"no operator in {names} could change design {design.hash}")

    def mutate_chain(self, design: Design, rng: random.Random, steps: int) -> Mutation:
        """``steps`` mutations in a row, named ``op1+op2+...``: a wider jump from ``design`` than one mutation."""
        operators, reasons = [], []
        current = design
        for _ in range(steps):
            step = self.mutate(current, rng)
            operators.append(step.operator)
            reasons.append(step.rationale)
            current = step.design
        if current == design:  # the steps undid each other
            return self.mutate(design, rng)
        return Mutation(current, "+".join(operators), "; ".join(reasons))

    def _is_valid(self, design: Design) -> bool:
        try:
            self.validate(design)
        except ValueError:
            return False
        return True

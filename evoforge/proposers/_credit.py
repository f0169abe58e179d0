from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PRIOR = 0.3  # an arm's prior win rate when none is given


@dataclass
class Arm:
    uses: int = 0
    wins: int = 0
    gain: float = 0.0  # summed improvement of winning children over their parents, in objective units


class Credit:
    """Credit for a set of choices ("arms": mutation operators, or the ways a proposal can be made), kept as
    "how often and by how much a child beat its parent", and choice probabilities that follow it.

    An arm's score is its win rate smoothed towards its prior (``prior`` wins out of ``strength`` pseudo-uses), so
    an arm is neither written off nor crowned on two trials. Probabilities are probability matching with a floor:
    ``floor`` of the mass is spread evenly over all arms (so every arm keeps being tried), the rest in proportion
    to the scores. Deterministic given the updates; ``warm`` adds another study's counts, scaled down.
    """

    def __init__(
        self, arms: Iterable[str], floor: float = 0.2, priors: Mapping[str, float] | None = None, strength: float = 4.0
    ) -> None:
        self.arms: dict[str, Arm] = {a: Arm() for a in arms}
        if not self.arms:
            raise ValueError("credit needs at least one arm")
        if not 0.0 <= floor <= 1.0:
            raise ValueError(f"floor: expected a fraction in [0, 1], got {floor}")
        self.floor, self.strength = floor, strength
        self.priors = {a: float((priors or {}).get(a, PRIOR)) for a in self.arms}
        self.prior_uses = dict.fromkeys(self.arms, 0.0)
        self.prior_wins = dict.fromkeys(self.arms, 0.0)
        self._weights: dict[str, float] | None = None

    def update(self, arm: str, won: bool, gain: float = 0.0) -> None:
        if arm not in self.arms:
            return  # an operator from an older version of the space, or another study's arm
        self._weights = None
        a = self.arms[arm]
        a.uses += 1
        if won:
            a.wins += 1
            a.gain += gain

    def warm(self, other: Mapping[str, Mapping[str, float]], weight: float = 0.5) -> None:
        """Start from another study's counts (``snapshot()``), each counted as ``weight`` of a use of this one."""
        self._weights = None
        for arm, counts in other.items():
            if arm in self.arms:
                self.prior_uses[arm] += weight * float(counts["uses"])
                self.prior_wins[arm] += weight * float(counts["wins"])

    def score(self, arm: str) -> float:
        a = self.arms[arm]
        wins = self.priors[arm] * self.strength + self.prior_wins[arm] + a.wins
        return wins / (self.strength + self.prior_uses[arm] + a.uses)

    def weights(self) -> dict[str, float]:
        if self._weights is None:
            self._weights = self._compute()
        return dict(self._weights)

    def _compute(self) -> dict[str, float]:
        scores = {arm: self.score(arm) for arm in self.arms}
        total = sum(scores.values())
        k = len(scores)
        if total <= 0:
            return dict.fromkeys(scores, 1.0 / k)
        return {arm: self.floor / k + (1.0 - self.floor) * s / total for arm, s in scores.items()}

    def choose(self, rng: random.Random, among: Iterable[str] | None = None) -> str:
        if self._weights is None:
            self._weights = self._compute()
        weights = self._weights
        names = [a for a in (among or weights) if a in weights]
        return rng.choices(names, weights=[weights[a] for a in names])[0]

    def snapshot(self) -> dict[str, dict[str, float]]:
        weights = self.weights()
        return {
            arm: {"uses": a.uses, "wins": a.wins, "gain": a.gain, "weight": weights[arm]}
            for arm, a in self.arms.items()
        }

"""When a challenger becomes the next generation's champion (automatic policy)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Champion:
    generation: int
    trial_number: int
    score: float


def promotion_reason(champion: Champion | None, score: float, metric: str, margin: float) -> str | None:
    """Why a challenger with ``score`` (higher is better) should be promoted, or None if it should not.

    The first scored, feasible trial founds generation 0; after that a challenger must beat the champion by more
    than ``margin``, so a re-measurement of noise does not start a generation.
    """
    if champion is None:
        return f"first feasible design ({metric} {abs(score):.4f})"
    if score > champion.score + margin:
        return (
            f"{metric} {abs(score):.4f} beats champion #{champion.trial_number} ({abs(champion.score):.4f}) by "
            f"more than the noise margin {margin:g}"
        )
    return None

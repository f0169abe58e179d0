from __future__ import annotations

import math
import random

import numpy as np

ACQUISITIONS = ("ei", "ucb", "ts")


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """E[max(f - best - xi, 0)] under f ~ N(mean, std^2), to maximize."""
    from scipy.stats import norm

    std = np.maximum(std, 1e-12)
    z = (mean - best - xi) / std
    return (mean - best - xi) * norm.cdf(z) + std * norm.pdf(z)


def upper_confidence_bound(mean: np.ndarray, std: np.ndarray, kappa: float = 2.0) -> np.ndarray:
    return mean + kappa * std


def thompson(mean: np.ndarray, std: np.ndarray, rng: random.Random) -> np.ndarray:
    """Independent Thompson sampling: one draw from each candidate's marginal posterior."""
    z = np.array([rng.gauss(0.0, 1.0) for _ in range(len(mean))])
    return mean + std * z


def acquire(
    name: str, mean: np.ndarray, std: np.ndarray, best: float, rng: random.Random, *, xi: float, kappa: float
) -> np.ndarray:
    """The score of each candidate under acquisition ``name`` (``ei``, ``ucb`` or ``ts``); higher is better."""
    if name == "ei":
        return expected_improvement(mean, std, best, xi)
    if name == "ucb":
        return upper_confidence_bound(mean, std, kappa)
    if name == "ts":
        return thompson(mean, std, rng)
    raise ValueError(f"acquisition: unknown {name!r} (known: {', '.join(ACQUISITIONS)})")


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rank correlation (ties get mean ranks); None for fewer than 3 pairs or a constant side."""
    if len(a) != len(b) or len(a) < 3:
        return None
    ra, rb = _ranks(a), _ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb, strict=True))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return None if va == 0 or vb == 0 else cov / math.sqrt(va * vb)


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0
        i = j + 1
    return ranks

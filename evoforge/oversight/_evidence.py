"""Is a challenger really better? A paired test on scores measured with the same seeds."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from scipy import stats


def paired_test(challenger: Sequence[float], champion: Sequence[float], level: float) -> dict[str, Any]:
    """Mean difference (challenger - champion) over paired runs, its two-sided ``1 - level`` confidence interval
    (Student t on the differences), the p-value of "no difference", and whether the gain is significant: the whole
    interval lies above zero. One pair gives no interval and is never significant: one run cannot tell a gain from
    seed noise."""
    if len(challenger) != len(champion) or not challenger:
        raise ValueError("paired_test: expected two equally long, non-empty lists of scores")
    diffs = [a - b for a, b in zip(challenger, champion, strict=True)]
    n = len(diffs)
    mean = sum(diffs) / n
    out: dict[str, Any] = {"n": n, "mean_diff": mean, "level": level, "test": "paired t"}
    if n < 2:
        return {**out, "ci": None, "p_value": None, "significant": False}
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1))
    if sd == 0.0:  # every seed agrees (a deterministic benchmark): the interval is the point
        return {**out, "sd": 0.0, "ci": [mean, mean], "p_value": 0.0 if mean else 1.0, "significant": mean > 0}
    half = float(stats.t.ppf(1 - level / 2, n - 1)) * sd / math.sqrt(n)
    p = float(2 * stats.t.sf(abs(mean) / (sd / math.sqrt(n)), n - 1))
    return {**out, "sd": sd, "ci": [mean - half, mean + half], "p_value": p, "significant": mean - half > 0}


def mean_ci(values: Sequence[float], level: float) -> dict[str, Any]:
    """Mean of ``values`` with a two-sided ``1 - level`` t interval (None with fewer than two values)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return {"n": n, "mean": mean, "ci": None}
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(1 - level / 2, n - 1)) * sd / math.sqrt(n) if sd else 0.0
    return {"n": n, "mean": mean, "ci": [mean - half, mean + half]}

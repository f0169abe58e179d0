"""Is a challenger really better? A paired test on scores measured with the same seeds."""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
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


def paired_bootstrap(
    challenger: Sequence[np.ndarray], champion: Sequence[np.ndarray], level: float, resamples: int = 2000
) -> dict[str, Any]:
    """Mean difference (challenger - champion) of per-input values (1/0 for accuracy, a loss per input, ...; oriented
    so that higher is better) over paired runs scored on the same held-out inputs, with a percentile interval from a
    two-level bootstrap: seeds resampled, and inputs resampled (the same inputs for every seed and both designs, as
    the held-out split is shared). Both sources of doubt count: a gain of two test inputs out of a few hundred is not
    significant however steadily the seeds repeat it. Deterministic."""
    if len(challenger) != len(champion) or not challenger:
        raise ValueError("paired_bootstrap: expected two equally long, non-empty lists of outcome arrays")
    diffs = np.stack([a.astype(np.float64) - b.astype(np.float64) for a, b in zip(challenger, champion, strict=True)])
    k, n = diffs.shape  # seeds x test inputs
    rng = np.random.default_rng(0)
    stats = np.empty(resamples)
    for i in range(resamples):
        per_input = diffs[rng.integers(0, k, k)].mean(axis=0)  # (n,): this resample's seeds, averaged
        weights = np.asarray(rng.poisson(1.0, n))  # how often each test input is drawn
        stats[i] = float(weights @ per_input) / max(int(weights.sum()), 1)
    mean = float(diffs.mean())
    low, high = (float(v) for v in np.quantile(stats, [level / 2, 1 - level / 2]))
    p = min(1.0, 2 * min(float((stats <= 0).mean()), float((stats >= 0).mean())))
    return {
        "n": k,
        "test_inputs": n,
        "mean_diff": mean,
        "level": level,
        "test": f"paired bootstrap over seeds and test inputs ({resamples} resamples)",
        "ci": [low, high],
        "p_value": p,
        "significant": low > 0,
    }


def pack_samples(values: Sequence[float]) -> dict[str, Any]:
    """Per-input values as a compact JSON value: the count and, base64, the bits when every value is 0 or 1 (an
    accuracy), else little-endian float32 values (a loss)."""
    array = np.asarray(values, dtype=np.float64)
    if np.isin(array, (0.0, 1.0)).all():
        bits = np.packbits(array.astype(bool))
        return {"n": len(array), "bits": base64.b64encode(bits.tobytes()).decode()}
    return {"n": len(array), "f32": base64.b64encode(array.astype("<f4").tobytes()).decode()}


def unpack_samples(packed: dict[str, Any]) -> np.ndarray:
    """The per-input values ``pack_samples`` packed, as float64; ``ValueError`` when they do not read back."""
    n = int(packed["n"])
    if "bits" in packed:
        bits = np.frombuffer(base64.b64decode(packed["bits"]), dtype=np.uint8)
        values = np.unpackbits(bits)[:n].astype(np.float64)
    else:
        values = np.frombuffer(base64.b64decode(packed["f32"]), dtype="<f4").astype(np.float64)
    if len(values) != n:
        raise ValueError(f"packed samples hold {len(values)} values, not {n}")
    return values

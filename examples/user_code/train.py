"""A small digits classifier to evolve with a language model (see docs/LLM.md).

Run by hand, ``python train.py`` prints one JSON line; this deliberately weak start gives
``{"val_accuracy": 0.294..., "test_accuracy": 0.369..., "train_time_s": 0.98...}`` on a 2-core CPU. evoforge edits
only the code between the EVOLVE markers; the data split and the measurement below them stay exactly as written, and
so does the held-out test split, which the search never sees (only the evidence gate reads ``test_accuracy``).
"""

from __future__ import annotations

import json
import time

import torch
from sklearn.datasets import load_digits

try:  # evoforge writes each trial's seed into this module; run by hand, the seed is 0
    from evoforge_trial import SEED
except ImportError:
    SEED = 0


# EVOLVE-BLOCK-START
def build_model(inputs: int, classes: int) -> torch.nn.Module:
    """The network: 64 pixel intensities in, one logit per digit out."""
    return torch.nn.Sequential(torch.nn.Linear(inputs, 16), torch.nn.Tanh(), torch.nn.Linear(16, classes))


def train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    """Fit ``model`` on the training split: ``x`` is (n, 64) in [0, 1], ``y`` is (n,) digit labels."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for _ in range(30):  # full-batch steps
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()


# EVOLVE-BLOCK-END


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean())


def main() -> None:
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)  # (1797, 64)
    y = torch.tensor(digits.target)  # (1797,)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))  # the same split for every trial
    test, val, fit = order[:360], order[360:720], order[720:]
    torch.manual_seed(SEED)
    model = build_model(x.shape[1], 10)
    start = time.perf_counter()
    train(model, x[fit], y[fit])
    seconds = time.perf_counter() - start
    model.train(False)  # inference mode for the measurement
    metrics = {"val_accuracy": accuracy(model, x[val], y[val]), "test_accuracy": accuracy(model, x[test], y[test])}
    print(json.dumps({**metrics, "train_time_s": seconds}))


if __name__ == "__main__":
    main()

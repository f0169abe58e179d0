"""Check on a CUDA machine that training is deterministic for a seed: train designs of each block type three times
and compare the weights byte for byte. Prints one line per design and any warning about non-deterministic kernels.

    python benchmarks/device/cuda_determinism.py
"""

from __future__ import annotations

import hashlib
import warnings

import torch

from evoforge.design import Design
from evoforge.tasks import EvalSettings, make_task

BASE = {
    "arch": {"blocks": [], "norm": "batch", "activation": "relu", "dropout": 0.1, "pooling": "flatten", "hidden": [32]},
    "recipe": {
        "optimizer": "adamw",
        "lr": 0.003,
        "momentum": 0.9,
        "weight_decay": 0.0,
        "schedule": "cosine",
        "batch_size": 64,
        "epochs": 3,
        "label_smoothing": 0.1,
        "augment": "shift",
    },
}
BLOCKS = {
    "conv+maxpool": [{"type": "conv", "width": 16, "kernel": 3}, {"type": "pool", "op": "max"}],
    "dsconv+avgpool": [{"type": "dsconv", "width": 16, "kernel": 5}, {"type": "pool", "op": "avg"}],
    "residual+dsconv": [{"type": "residual", "width": 24, "kernel": 3}, {"type": "dsconv", "width": 16, "kernel": 3}],
}


def main() -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    task = make_task({"name": "digits"})
    for name, blocks in BLOCKS.items():
        genes = {**BASE, "arch": {**BASE["arch"], "blocks": blocks}}
        design = Design.make("macro", genes)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            runs = [task.evaluate(design, 7, EvalSettings(device=device)) for _ in range(3)]
        digests = {hashlib.sha256(r.artifact or b"").hexdigest()[:12] for r in runs}
        losses = [round(r.metrics["val_loss"], 6) for r in runs]
        notes = sorted({str(w.message).split(".")[0][:90] for w in caught if "determinis" in str(w.message)})
        print(f"{device} {name:16} identical={len(digests) == 1} val_loss={losses} warnings={notes}")


if __name__ == "__main__":
    main()

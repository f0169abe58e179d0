"""Check: how do two hand-written digits designs score on validation and test over several training seeds?

Strong designs should score about the same on both splits whatever the seed; a lucky small design does not. This is
the reference the digits evolution benchmark is read against (docs/BENCHMARKS.md).

    python benchmarks/digits_design_check.py --seeds 4
"""

from __future__ import annotations

import argparse
from typing import Any

from evoforge.design import Design
from evoforge.tasks import EvalSettings, TrainedTask, make_task

RECIPE = {
    "optimizer": "adamw", "lr": 0.003, "momentum": 0.9, "weight_decay": 1e-4, "schedule": "onecycle",
    "batch_size": 32, "epochs": 30, "label_smoothing": 0.1, "augment": "shift",
}  # fmt: skip
DESIGNS: dict[str, list[dict[str, Any]]] = {
    "two convs 32/64 + max-pool": [
        {"type": "conv", "width": 32, "kernel": 3},
        {"type": "conv", "width": 64, "kernel": 3},
        {"type": "pool", "op": "max"},
    ],
    "two residual 32/64 + max-pool": [
        {"type": "residual", "width": 32, "kernel": 3},
        {"type": "pool", "op": "max"},
        {"type": "residual", "width": 64, "kernel": 3},
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    task = make_task({"name": "digits"})
    assert isinstance(task, TrainedTask)
    print("| design | seed | val acc | test acc | train s |\n|---|---:|---:|---:|---:|")
    for name, blocks in DESIGNS.items():
        arch = {"blocks": blocks, "norm": "batch", "activation": "relu", "dropout": 0.1, "pooling": "avg", "hidden": []}
        design = Design.make("macro", {"arch": arch, "recipe": RECIPE})
        for seed in range(args.seeds):
            result = task.evaluate(design, seed, EvalSettings(device="cpu", threads=2))
            test = task.test_accuracy(design, result.artifact)
            m = result.metrics
            print(f"| {name} | {seed} | {m['val_accuracy']:.4f} | {test:.4f} | {m['train_time_s']:.1f} |")


if __name__ == "__main__":
    main()

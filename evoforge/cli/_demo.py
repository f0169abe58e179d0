"""The built-in demo: evolve a digits classifier from a deliberately weak starting design."""

from __future__ import annotations

from typing import Any

WEAK_DIGITS_DESIGN: dict[str, Any] = {
    "arch": {
        "blocks": [],
        "norm": "none",
        "activation": "relu",
        "dropout": 0.0,
        "pooling": "flatten",
        "hidden": [32],
    },
    "recipe": {
        "optimizer": "sgd",
        "lr": 0.001,
        "momentum": 0.9,
        "weight_decay": 0.0,
        "schedule": "constant",
        "batch_size": 64,
        "epochs": 10,
        "label_smoothing": 0.0,
        "augment": "none",
    },
}


def demo_goal(trials: int = 60, study: str = "digits-demo") -> dict[str, Any]:
    return {
        "study": study,
        "task": {"name": "digits"},
        "space": {"epochs": [2, 30]},
        "objectives": {"val_accuracy": "max"},
        "constraints": {"params": {"max": 200_000}},
        "budget": {"trials": trials, "trial_timeout_s": 120},
        "search": {"seed": 0, "start_from": WEAK_DIGITS_DESIGN},  # the default profile: predictor-guided evolution
        "oversight": {"promotion": "auto"},
    }

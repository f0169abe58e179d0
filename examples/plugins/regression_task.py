"""A task of one's own, plugged into evoforge by import path: a linear model trained by stochastic gradient descent
on scikit-learn's bundled diabetes data, judged on its squared error (lower is better), with its own search space.

    task: {name: "regression_task:RegressionTask"}     # found from the goal file's folder, or on PYTHONPATH

The evidence gate retrains a challenger and its champion on the study's evidence seeds and compares their squared
errors input by input on the held-out split (``test`` gives them per input), so a lucky single run is not promoted.
"""

from __future__ import annotations

import json
import math
import random
import time
from typing import Any

import numpy as np

from evoforge.design import Design
from evoforge.spaces import Space
from evoforge.tasks import EvalSettings, HeldOut, Task, TaskOptions, TrialResult

PENALTIES = ("l2", "l1", "elasticnet")


def _log_step(genes: dict[str, Any], rng: random.Random, key: str, low: float, high: float) -> tuple[dict, str]:
    old = genes[key]
    genes[key] = float(min(max(old * math.exp(rng.gauss(0.0, 0.7)), low), high))
    return genes, f"{key}: {old:.3g} -> {genes[key]:.3g}"


class RegressionSpace(Space):
    """Genes: ``alpha`` (regularization), ``eta0`` (learning rate), ``penalty``, ``epochs``, ``square`` (add the
    squared features)."""

    name = "sgd-regression"

    def __init__(self) -> None:
        self.operators = {
            "alpha": lambda g, rng, s: _log_step(g, rng, "alpha", 1e-6, 1.0),
            "eta0": lambda g, rng, s: _log_step(g, rng, "eta0", 1e-4, 0.3),
            "penalty": lambda g, rng, s: (
                {**g, "penalty": rng.choice([p for p in PENALTIES if p != g["penalty"]])},
                "another penalty",
            ),
            "epochs": lambda g, rng, s: (
                {**g, "epochs": rng.choice([e for e in (5, 10, 20, 40) if e != g["epochs"]])},
                "another number of epochs",
            ),
            "square": lambda g, rng, s: ({**g, "square": not g["square"]}, "squared features on/off"),
        }

    def sample(self, rng: random.Random) -> Design:
        genes = {
            "alpha": math.exp(rng.uniform(math.log(1e-6), 0.0)),
            "eta0": math.exp(rng.uniform(math.log(1e-4), math.log(0.3))),
            "penalty": rng.choice(PENALTIES),
            "epochs": rng.choice((5, 10, 20, 40)),
            "square": rng.random() < 0.5,
        }
        return Design.make(self.name, genes)

    def validate(self, design: Design) -> None:
        g = design.view
        if set(g) != {"alpha", "eta0", "penalty", "epochs", "square"}:
            raise ValueError(f"genes: expected alpha, eta0, penalty, epochs, square; got {sorted(g)}")
        if g["penalty"] not in PENALTIES or g["epochs"] not in (5, 10, 20, 40) or not 0 < g["eta0"] <= 0.3:
            raise ValueError(f"design {design.hash} is outside the space")

    def features(self, design: Design) -> list[float]:
        g = design.view
        onehot = [1.0 if g["penalty"] == p else 0.0 for p in PENALTIES]
        return [
            math.log10(g["alpha"]) / 6 + 1,
            math.log10(g["eta0"]) / 4 + 1,
            g["epochs"] / 40,
            float(g["square"]),
        ] + onehot


class RegressionOptions(TaskOptions):
    val_fraction: float = 0.2
    test_fraction: float = 0.2


class RegressionTask(Task):
    name = "regression"
    Options = RegressionOptions
    metrics = frozenset({"val_loss", "val_r2", "train_time_s"})
    curve_metrics = frozenset()

    def __init__(self, options: RegressionOptions) -> None:
        from sklearn.datasets import load_diabetes
        from sklearn.model_selection import train_test_split

        self.options = options
        x, y = load_diabetes(return_X_y=True)
        rest_x, self.x_test, rest_y, self.y_test = train_test_split(
            x, y, test_size=options.test_fraction, random_state=0
        )
        share = options.val_fraction / (1 - options.test_fraction)
        self.x_train, self.x_val, self.y_train, self.y_val = train_test_split(
            rest_x, rest_y, test_size=share, random_state=0
        )
        self.mean, self.scale = self.x_train.mean(0), self.x_train.std(0) + 1e-12
        self.y_mean, self.y_scale = self.y_train.mean(), self.y_train.std()

    def space(self, options: dict[str, Any]) -> RegressionSpace:
        if options:
            raise ValueError(f"space.{next(iter(options))}: this space takes no options")
        return RegressionSpace()

    def fidelities(self, design: Design) -> list[int]:
        return []

    def _inputs(self, x: np.ndarray, square: bool) -> np.ndarray:
        z = (x - self.mean) / self.scale  # (N, 10)
        return np.hstack([z, z**2]) if square else z  # (N, 10 or 20)

    def evaluate(
        self,
        design: Design,
        seed: int,
        settings: EvalSettings,
        until: int | None = None,
        checkpoint: bytes | None = None,
    ) -> TrialResult:
        from sklearn.linear_model import SGDRegressor

        g = design.view
        started = time.perf_counter()
        model = SGDRegressor(
            alpha=g["alpha"], eta0=g["eta0"], penalty=g["penalty"], max_iter=g["epochs"], tol=None, random_state=seed
        )
        model.fit(self._inputs(self.x_train, g["square"]), (self.y_train - self.y_mean) / self.y_scale)
        errors = self._errors(model.coef_, float(model.intercept_[0]), self.x_val, self.y_val, g["square"])
        weights = json.dumps({"coef": model.coef_.tolist(), "intercept": float(model.intercept_[0])}).encode()
        metrics = {"val_loss": float(errors.mean()), "val_r2": 1 - float(errors.mean()) / self._variance(self.y_val)}
        metrics["train_time_s"] = time.perf_counter() - started
        return TrialResult(metrics, artifact=weights)

    def test(self, design: Design, artifact: bytes | None) -> HeldOut:
        """Squared errors on the held-out split, per input (standardized targets), and R²."""
        if artifact is None:
            raise ValueError("the design's weights are needed to measure it on the held-out split")
        weights = json.loads(artifact)
        errors = self._errors(
            np.asarray(weights["coef"]), weights["intercept"], self.x_test, self.y_test, design.view["square"]
        )
        r2 = 1 - float(errors.mean()) / self._variance(self.y_test)
        return HeldOut({"val_loss": float(errors.mean()), "val_r2": r2}, {"val_loss": errors.tolist()})

    def _errors(self, coef: np.ndarray, intercept: float, x: np.ndarray, y: np.ndarray, square: bool) -> np.ndarray:
        predicted = self._inputs(x, square) @ coef + intercept  # (N,)
        return np.minimum((predicted - (y - self.y_mean) / self.y_scale) ** 2, 1e6)  # a diverged run: capped, not inf

    def _variance(self, y: np.ndarray) -> float:
        return float((((y - self.y_mean) / self.y_scale) - ((y - self.y_mean) / self.y_scale).mean()).var())

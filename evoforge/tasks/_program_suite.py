"""The small real training problems a training-algorithm program is judged on, at a fixed number of steps.

``TRAINING`` problems are what a search optimizes; ``HELD_OUT`` ones (other data, other architectures) decide
whether a program generalizes before it is promoted. Each returns a score in [0, 1] (validation accuracy, or R^2
clipped at 0 for regressions); a run that diverges scores 0. This module runs inside the sandbox: it imports only
torch, numpy and scikit-learn, reads data from the MNIST folder it is given and writes nothing.
"""

from __future__ import annotations

import gzip
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

Factory = Callable[[list[torch.nn.Parameter]], torch.optim.Optimizer]


@dataclass(frozen=True)
class Recipe:
    """How a problem is trained: a factory for the optimizer, an optional schedule (step, total -> factor) and an
    optional classification loss (logits, targets -> scalar); MSE for regressions."""

    optimizer: Factory
    schedule: Callable[[int, int], float] | None = None
    loss: nn.Module | None = None


@dataclass(frozen=True)
class Data:
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    classes: int  # 0 for a regression


@dataclass(frozen=True)
class Problem:
    name: str
    data: Callable[[str | None], Data]
    model: Callable[[Data], nn.Module]


def _digits(images: bool) -> Callable[[str | None], Data]:
    def load(_: str | None) -> Data:
        from sklearn.datasets import load_digits

        x, y = load_digits(return_X_y=True)
        x = torch.tensor(x / 16.0, dtype=torch.float32)  # (1797, 64) in [0, 1]
        if images:
            x = x.view(-1, 1, 8, 8)
        y = torch.tensor(y)
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
        x, y = x[order], y[order]
        return Data(x[:1200], y[:1200], x[1200:], y[1200:], 10)

    return load


def read_mnist(folder: str | None, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    if folder is None:
        raise ValueError("this problem needs the MNIST folder (task option mnist)")
    root = Path(folder)
    images = next(p for p in sorted(root.iterdir()) if "images-idx3" in p.name)
    labels = next(p for p in sorted(root.iterdir()) if "labels-idx1" in p.name)
    arrays = []
    for path, ndim in ((images, 3), (labels, 1)):
        with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as f:
            raw = f.read()
        dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
        arrays.append(np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)[lo:hi])
    return arrays[0], arrays[1]


def _mnist(lo: int, split: int, hi: int) -> Callable[[str | None], Data]:
    def load(folder: str | None) -> Data:
        images, labels = read_mnist(folder, lo, hi)
        x = torch.tensor(images.reshape(len(images), -1) / 255.0, dtype=torch.float32)  # (N, 784)
        y = torch.tensor(labels.astype(np.int64))
        n = split - lo
        return Data(x[:n], y[:n], x[n:], y[n:], 10)

    return load


def _regression(friedman: bool) -> Callable[[str | None], Data]:
    def load(_: str | None) -> Data:
        rng = np.random.default_rng(7)
        if friedman:
            from sklearn.datasets import make_friedman1

            x, y = make_friedman1(n_samples=1500, noise=0.5, random_state=3)
        else:
            x = rng.normal(size=(1500, 8))
            y = np.sin(2 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.5 * x[:, 3] ** 2 + 0.1 * rng.normal(size=1500)
        x = (x - x.mean(0)) / x.std(0)
        y = (y - y.mean()) / y.std()
        xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)[:, None]
        return Data(xt[:1000], yt[:1000], xt[1000:], yt[1000:], 0)

    return load


def _mlp(*widths: int, act: type[nn.Module] = nn.ReLU) -> Callable[[Data], nn.Module]:
    def build(data: Data) -> nn.Module:
        sizes = [data.x_train.shape[1], *widths, data.classes or 1]
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(a, b), act()]
        return nn.Sequential(*layers[:-1])

    return build


def _cnn(data: Data) -> nn.Module:
    # (B, 1, 8, 8) -> conv (B, 8, 8, 8) -> pool (B, 8, 4, 4) -> (B, 128) -> (B, 10)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(128, data.classes)
    )


PROBLEMS = {
    p.name: p
    for p in (
        Problem("digits_mlp", _digits(False), _mlp(32)),
        Problem("mnist_mlp", _mnist(0, 3000, 4000), _mlp(32)),
        Problem("regression", _regression(False), _mlp(32)),
        Problem("digits_cnn", _digits(True), _cnn),
        Problem("mnist_deep", _mnist(5000, 8000, 9000), _mlp(64, 64, act=nn.Tanh)),
        Problem("friedman", _regression(True), _mlp(64, 64)),
    )
}
TRAINING = ("digits_mlp", "mnist_mlp", "regression")
HELD_OUT = ("digits_cnn", "mnist_deep", "friedman")


def train(
    problem: Problem, data: Data, recipe: Recipe, steps: int, seed: int, batch: int = 64, device: str = "cpu"
) -> float:
    """Train a fresh model ``steps`` steps on mini-batches on ``device``; the validation score, 0 when training
    diverged. The batches and the initial weights depend on ``seed`` only (drawn on the CPU)."""
    torch.manual_seed(seed)
    model = problem.model(data).to(device)
    data = Data(
        data.x_train.to(device), data.y_train.to(device), data.x_val.to(device), data.y_val.to(device), data.classes
    )
    optimizer = recipe.optimizer(list(model.parameters()))
    base = [g["lr"] for g in optimizer.param_groups]
    order = torch.Generator().manual_seed(seed)
    for step in range(steps):
        if recipe.schedule is not None:
            factor = recipe.schedule(step, steps)
            for group, lr in zip(optimizer.param_groups, base, strict=True):
                group["lr"] = lr * factor
        idx = torch.randint(len(data.x_train), (batch,), generator=order).to(device)
        loss = _loss(model(data.x_train[idx]), data.y_train[idx], data, recipe)
        if not torch.isfinite(loss):
            return 0.0
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return _score(model, data)


def _loss(out: torch.Tensor, y: torch.Tensor, data: Data, recipe: Recipe) -> torch.Tensor:
    if not data.classes:
        return nn.functional.mse_loss(out, y)
    return recipe.loss(out, y) if recipe.loss is not None else nn.functional.cross_entropy(out, y)


@torch.no_grad()
def _score(model: nn.Module, data: Data) -> float:
    out = model(data.x_val)
    if not torch.isfinite(out).all():
        return 0.0
    if data.classes:
        return float((out.argmax(1) == data.y_val).float().mean())
    r2 = 1.0 - float(((out - data.y_val) ** 2).mean()) / float(data.y_val.var(unbiased=False))
    return max(0.0, r2) if math.isfinite(r2) else 0.0


def run_problems(
    names: list[str], recipe: Recipe, steps: int, seed: int, mnist: str | None, device: str = "cpu"
) -> dict[str, Any]:
    """Every named problem's score (``val_<name>``) and their mean (``score``)."""
    scores = {}
    for name in names:
        problem = PROBLEMS[name]
        data = problem.data(mnist)
        try:
            scores[name] = train(problem, data, recipe, steps, seed, device=device)
        except (ArithmeticError, ValueError, RuntimeError):
            scores[name] = 0.0  # the program broke on this problem (a division by zero, a shape it cannot take)
    return {"score": sum(scores.values()) / len(scores), **{f"val_{k}": v for k, v in scores.items()}}

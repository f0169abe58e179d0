"""Training one design: the recipe's optimizer, schedule, augmentation and label smoothing."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn


def make_optimizer(model: nn.Module, recipe: dict[str, Any]) -> torch.optim.Optimizer:
    if recipe["optimizer"] == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=recipe["lr"],
            momentum=recipe["momentum"],
            weight_decay=recipe["weight_decay"],
        )
    return torch.optim.AdamW(model.parameters(), lr=recipe["lr"], weight_decay=recipe["weight_decay"])


def make_schedule(opt: torch.optim.Optimizer, recipe: dict[str, Any], total_steps: int) -> Any:
    if recipe["schedule"] == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * s / total_steps)))
    if recipe["schedule"] == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe["lr"], total_steps=total_steps)
    return None


def augment(x: torch.Tensor, kind: str, noise_std: float, gen: torch.Generator) -> torch.Tensor:
    """``shift``: move each image by up to one pixel (zero fill); ``noise``: add Gaussian noise."""
    if kind == "noise":
        return x + noise_std * torch.randn(x.shape, generator=gen, device=x.device)
    if kind != "shift":
        return x
    n, _, h, w = x.shape  # (N, C, H, W)
    padded = nn.functional.pad(x, (1, 1, 1, 1)).permute(0, 2, 3, 1)  # (N, H+2, W+2, C)
    dy = torch.randint(0, 3, (n,), generator=gen, device=x.device)
    dx = torch.randint(0, 3, (n,), generator=gen, device=x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)  # (N, H)
    cols = dx[:, None] + torch.arange(w, device=x.device)  # (N, W)
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)  # (N, C, H, W)


def train(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, recipe: dict[str, Any], seed: int, noise_std: float
) -> bool:
    """Train in place; returns False if the loss became non-finite (the run diverged and stopped)."""
    gen = torch.Generator(device=x.device).manual_seed(seed)
    batch = min(recipe["batch_size"], len(y))
    steps_per_epoch = math.ceil(len(y) / batch)
    opt = make_optimizer(model, recipe)
    schedule = make_schedule(opt, recipe, recipe["epochs"] * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe["label_smoothing"])
    model.train()
    for _ in range(recipe["epochs"]):
        order = torch.randperm(len(y), generator=gen, device=x.device)
        for i in range(steps_per_epoch):
            idx = order[i * batch : (i + 1) * batch]
            if len(idx) < 2 and i > 0:
                continue  # batch norm cannot use a batch of one
            loss = loss_fn(model(augment(x[idx], recipe["augment"], noise_std, gen)), y[idx])
            if not torch.isfinite(loss):
                return False
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if schedule is not None:
                schedule.step()
    return True

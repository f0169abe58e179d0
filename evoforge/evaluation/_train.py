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
    """``shift``: move each image by up to one pixel; ``crop``: by up to 1/8 of its side (a random crop of the
    padded image; both zero fill); ``flip``: mirror each image left-right with probability 1/2; ``noise``: add
    Gaussian noise. Every draw comes from ``gen``, so a seed fixes the result."""
    if kind == "noise":
        return x + noise_std * torch.randn(x.shape, generator=gen, device=x.device)
    if kind == "flip":
        mirror = torch.rand(len(x), generator=gen, device=x.device) < 0.5  # (N,)
        return torch.where(mirror[:, None, None, None], x.flip(-1), x)  # (N, C, H, W)
    if kind == "shift":
        return shift(x, 1, 1, gen)
    if kind == "crop":
        h, w = x.shape[2:]
        return shift(x, max(1, h // 8), max(1, w // 8), gen)
    return x


def shift(x: torch.Tensor, pad_y: int, pad_x: int, gen: torch.Generator) -> torch.Tensor:
    """Move each image by a random offset of up to ``pad_y`` rows and ``pad_x`` columns either way, zero fill."""
    n, _, h, w = x.shape  # (N, C, H, W)
    padded = nn.functional.pad(x, (pad_x, pad_x, pad_y, pad_y)).permute(0, 2, 3, 1)  # (N, H+2py, W+2px, C)
    dy = torch.randint(0, 2 * pad_y + 1, (n,), generator=gen, device=x.device)
    dx = torch.randint(0, 2 * pad_x + 1, (n,), generator=gen, device=x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)  # (N, H)
    cols = dx[:, None] + torch.arange(w, device=x.device)  # (N, W)
    batch = torch.arange(n, device=x.device)[:, None, None]
    return padded[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)  # (N, C, H, W)


class Training:
    """One design's training, resumable between epochs: the model, optimizer, schedule and random generator, and
    how far it got. ``state()`` / ``load()`` carry it across processes, so training in pieces (as a multi-fidelity
    scheduler does) gives exactly the result of training straight through."""

    def __init__(self, model: nn.Module, recipe: dict[str, Any], seed: int, n_train: int, device: torch.device):
        self.model, self.recipe = model, recipe
        self.gen = torch.Generator(device=device).manual_seed(seed)
        self.batch = min(recipe["batch_size"], n_train)
        self.steps_per_epoch = math.ceil(n_train / self.batch)
        self.opt = make_optimizer(model, recipe)
        self.schedule = make_schedule(self.opt, recipe, recipe["epochs"] * self.steps_per_epoch)
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe["label_smoothing"])
        self.epoch = 0
        self.finite = True  # False once the loss became non-finite: the run diverged and stopped

    def run_epoch(self, x: torch.Tensor, y: torch.Tensor, noise_std: float, precision: Any) -> bool:
        """One pass over (x, y) under the ``precision`` context (autocast or none); False if it diverged."""
        self.model.train()
        order = torch.randperm(len(y), generator=self.gen, device=x.device)
        for i in range(self.steps_per_epoch):
            idx = order[i * self.batch : (i + 1) * self.batch]
            if len(idx) < 2 and i > 0:
                continue  # batch norm cannot use a batch of one
            with precision():
                loss = self.loss_fn(self.model(augment(x[idx], self.recipe["augment"], noise_std, self.gen)), y[idx])
            if not torch.isfinite(loss):
                self.finite = False
                return False
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            if self.schedule is not None:
                self.schedule.step()
        self.epoch += 1
        return True

    def state(self) -> dict[str, Any]:
        return {
            "model": self.model.state_dict(),
            "opt": self.opt.state_dict(),
            "schedule": self.schedule.state_dict() if self.schedule is not None else None,
            "gen": self.gen.get_state(),
            # Dropout draws from torch's global generators: carry them too, or a resumed run repeats old masks.
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "epoch": self.epoch,
        }

    def load(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        if self.schedule is not None:
            self.schedule.load_state_dict(state["schedule"])
        self.gen.set_state(state["gen"].cpu())  # a checkpoint loaded onto a GPU brings the state along
        torch.set_rng_state(state["torch_rng"].cpu())
        if state["cuda_rng"]:
            torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda_rng"]])
        self.epoch = int(state["epoch"])

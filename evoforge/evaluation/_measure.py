"""Measurements of a trained model: accuracy and loss, FLOPs, and latency on the device that runs it."""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
from torch import nn


@torch.no_grad()
def accuracy_and_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1024) -> tuple[float, float]:
    """Accuracy (fraction) and mean cross-entropy (no label smoothing) in eval mode."""
    model.eval()
    correct, loss = 0, 0.0
    for i in range(0, len(y), batch):
        logits = model(x[i : i + batch])
        correct += int((logits.argmax(dim=1) == y[i : i + batch]).sum())
        loss += float(nn.functional.cross_entropy(logits, y[i : i + batch], reduction="sum"))
    return correct / len(y), loss / len(y)


@torch.no_grad()
def per_input(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1024) -> dict[str, np.ndarray]:
    """Per input, in eval mode and in the order of ``x``: ``val_accuracy`` (1.0 when classified right, else 0.0) and
    ``val_loss`` (cross-entropy, no label smoothing), each (N,) float64; their means are ``accuracy_and_loss``."""
    model.eval()
    hits, losses = [], []
    for i in range(0, len(y), batch):
        logits = model(x[i : i + batch]).float()  # (B, classes)
        hits.append((logits.argmax(dim=1) == y[i : i + batch]).cpu().numpy())
        losses.append(nn.functional.cross_entropy(logits, y[i : i + batch], reduction="none").cpu().numpy())
    if not hits:
        return {"val_accuracy": np.zeros(0), "val_loss": np.zeros(0)}
    return {
        "val_accuracy": np.concatenate(hits).astype(np.float64),
        "val_loss": np.concatenate(losses).astype(np.float64),
    }


@torch.no_grad()
def flops_per_sample(model: nn.Module, sample: torch.Tensor) -> float:
    """Forward-pass FLOPs for one input, counted by ``torch.utils.flop_counter``."""
    from torch.utils.flop_counter import FlopCounterMode

    model.eval()
    counter = FlopCounterMode(display=False)
    with counter:
        model(sample[:1])
    return float(counter.get_total_flops())


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def latency_ms(model: nn.Module, batch: torch.Tensor, warmup: int, repeats: int) -> float:
    """Median wall time (ms) of one forward pass over ``batch``, after ``warmup`` untimed passes."""
    model.eval()
    for _ in range(warmup):
        model(batch)
    _sync(batch.device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model(batch)
        _sync(batch.device)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)

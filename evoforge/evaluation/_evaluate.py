from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from evoforge.evaluation._measure import accuracy_and_loss, flops_per_sample, latency_ms
from evoforge.evaluation._train import train
from evoforge.spaces import InputSpec, build_network

if TYPE_CHECKING:
    from evoforge.tasks import EvalSettings, Splits, TrialResult


def pick_device(name: str) -> torch.device:
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def _deterministic(device: torch.device) -> None:
    """Same seed, same result: ask for deterministic kernels (on CUDA, cuBLAS needs its workspace setting before
    it starts). An operation without a deterministic kernel warns rather than fails."""
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)


def _tensor(a: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).to(device)


def train_and_measure(genes: dict[str, Any], splits: Splits, seed: int, settings: EvalSettings) -> TrialResult:
    """Train a macro-space design from scratch and measure it on the validation split (never the test split)."""
    from safetensors.torch import save

    from evoforge.tasks import TrialResult

    device = pick_device(settings.device)
    _deterministic(device)
    torch.set_num_threads(settings.threads)
    torch.manual_seed(seed)
    inp = splits.input_spec()
    model = build_network(genes, inp).to(device)
    x_train, y_train = _tensor(splits.x_train, device), _tensor(splits.y_train, device)
    x_val, y_val = _tensor(splits.x_val, device), _tensor(splits.y_val, device)

    start = time.perf_counter()
    finite = train(model, x_train, y_train, genes["recipe"], seed, noise_std=0.1 * float(np.mean(inp.std)))
    train_time = time.perf_counter() - start

    val_acc, val_loss = accuracy_and_loss(model, x_val, y_val)
    reps = -(-settings.latency_batch // len(x_val))
    batch = x_val.repeat(reps, *([1] * (x_val.dim() - 1)))[: settings.latency_batch]
    metrics = {
        "val_accuracy": val_acc,
        "val_loss": val_loss if finite and np.isfinite(val_loss) else float("inf"),
        "params": float(sum(p.numel() for p in model.parameters())),
        "flops": flops_per_sample(model, x_val),
        "latency_ms": latency_ms(model, batch, settings.latency_warmup, settings.latency_repeats),
        "train_time_s": train_time,
    }
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    info = {
        "device": str(device),
        "threads": settings.threads,
        "latency_batch": settings.latency_batch,
        "diverged": not finite,
        # What the weights expect as input, so the model can be rebuilt and exported without the data.
        "input": {"shape": list(inp.shape), "classes": inp.classes, "mean": list(inp.mean), "std": list(inp.std)},
    }
    return TrialResult(metrics, save(state), info)


def accuracy_of(genes: dict[str, Any], inp: InputSpec, artifact: bytes, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of a trained network, rebuilt from its genes and weights, on (x, y)."""
    from safetensors.torch import load

    model = build_network(genes, inp)
    model.load_state_dict(load(artifact))
    return accuracy_and_loss(model, _tensor(x, torch.device("cpu")), _tensor(y, torch.device("cpu")))[0]

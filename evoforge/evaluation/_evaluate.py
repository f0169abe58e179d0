from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from evoforge.evaluation._checkpoint import pack_state, unpack_state
from evoforge.evaluation._energy import EnergyMeter
from evoforge.evaluation._measure import accuracy_and_loss, flops_per_sample, latency_ms, per_input
from evoforge.evaluation._memory import peak_memory_mb
from evoforge.evaluation._train import Training
from evoforge.spaces import InputSpec, build_network, deploy_of, deployed_genes, inference_precision

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


def _tensor(a: np.ndarray, device: torch.device, channels_last: bool = False) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(a)).to(device)
    return t.contiguous(memory_format=torch.channels_last) if channels_last and t.dim() == 4 else t


def precision_context(precision: str, device: torch.device) -> Callable[[], Any]:
    """A context factory: bf16 autocast for ``bf16``, nothing for ``fp32``."""
    if precision == "bf16":
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext


def data_subset(n: int, fraction: float) -> np.ndarray:
    """A fixed subset of ``fraction`` of ``n`` training examples: the same for every design and seed."""
    keep = max(2, int(round(n * fraction)))
    return np.sort(np.random.default_rng(0).permutation(n)[:keep])


def train_and_measure(
    genes: dict[str, Any],
    splits: Splits,
    seed: int,
    settings: EvalSettings,
    until: int | None = None,
    checkpoint: bytes | None = None,
) -> TrialResult:
    """Train a macro-space design and measure it on the validation split (never the test split).

    Trains from ``checkpoint`` (or from scratch) up to epoch ``until`` (default: the recipe's epochs), measuring
    validation accuracy and loss after every epoch. Before the last epoch it returns those and a checkpoint to
    continue from; at the last, the full measurement of the deployed model.
    """
    from evoforge.tasks import TrialResult

    device = pick_device(settings.device)
    _deterministic(device)
    torch.set_num_threads(settings.threads)
    torch.manual_seed(seed)
    deploy, recipe = deploy_of(genes), genes["recipe"]
    inp = splits.input_spec()
    cl = bool(deploy["channels_last"])
    model = build_network(genes, inp).to(device)
    if cl:
        model = model.to(memory_format=torch.channels_last)
    subset = data_subset(len(splits.y_train), recipe.get("data_fraction", 1.0))
    x_train, y_train = _tensor(splits.x_train[subset], device, cl), _tensor(splits.y_train[subset], device)
    x_val, y_val = _tensor(splits.x_val, device, cl), _tensor(splits.y_val, device)
    precision = precision_context(deploy["precision"], device)

    training = Training(model, recipe, seed, len(y_train), device)
    spent = {"train_time_s": 0.0, "energy_j": 0.0}
    if checkpoint is not None:
        saved = unpack_state(checkpoint, device)
        training.load(saved["training"])
        spent = saved["spent"]
    stop = min(until or recipe["epochs"], recipe["epochs"])
    pruned: dict[str, Any] | None = None
    with EnergyMeter(device.type, settings.power_w) as meter:
        curve = _run_epochs(training, (x_train, y_train, x_val, y_val), stop, precision, meter, spent, settings, inp)
        finished = training.finite and training.epoch == recipe["epochs"]
        # A design with no conv block and no dense layer has no channels to prune: its prune gene changes nothing.
        if finished and deploy["prune"] and deployed_genes(genes) != genes:
            start = time.perf_counter()
            model, pruned = prune_and_finetune(model, genes, inp, seed, (x_train, y_train, x_val, y_val), precision)
            spent["train_time_s"] += time.perf_counter() - start
    energy = meter.reading()
    spent["energy_j"] += energy.joules
    info: dict[str, Any] = {
        "device": str(device),
        "threads": settings.threads,
        "epoch": training.epoch,
        "curve": curve,
        "energy": {"source": energy.source, "detail": energy.detail},
        "estimated": ["energy_j"] if energy.estimated else [],
        # What the weights expect as input, so the model can be rebuilt and exported without the data.
        "input": {"shape": list(inp.shape), "classes": inp.classes, "mean": list(inp.mean), "std": list(inp.std)},
    }
    if pruned is not None:
        info["pruned"] = pruned
    if settings.target_accuracy is not None:  # until the target is reached, the time to reach it is unbounded
        spent.setdefault("time_to_accuracy_s", float("inf"))
    if training.finite and not finished:
        metrics = {"val_accuracy": curve[-1]["val_accuracy"], "val_loss": curve[-1]["val_loss"], **spent}
        reached = {k: v for k, v in spent.items() if v != float("inf")}  # not reached yet: not carried on
        return TrialResult(metrics, info=info, checkpoint=pack_state({"training": training.state(), "spent": reached}))
    return _final(model, training, x_val, y_val, genes, settings, spent, info)


def _run_epochs(
    training: Training,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    stop: int,
    precision: Callable[[], Any],
    meter: EnergyMeter,
    spent: dict[str, float],
    settings: EvalSettings,
    inp: InputSpec,
) -> list[dict[str, float]]:
    """Train up to epoch ``stop`` (or until the loss diverges), validating after each epoch; adds the training
    seconds (validation excluded) to ``spent``, and ``time_to_accuracy_s`` when the target is first reached."""
    x_train, y_train, x_val, y_val = data
    noise = 0.1 * float(np.mean(inp.std))
    target = settings.target_accuracy
    curve: list[dict[str, float]] = []
    while training.epoch < stop:
        start = time.perf_counter()
        finite = training.run_epoch(x_train, y_train, noise, precision)
        spent["train_time_s"] += time.perf_counter() - start
        meter.sample()
        if not finite:
            break
        with precision():
            acc, loss = accuracy_and_loss(training.model, x_val, y_val)
        curve.append(
            {"epoch": training.epoch, "val_accuracy": acc, "val_loss": loss, "train_time_s": spent["train_time_s"]}
        )
        if target is not None and acc >= target and "time_to_accuracy_s" not in spent:
            spent["time_to_accuracy_s"] = spent["train_time_s"]
    return curve


def prune_and_finetune(
    model: nn.Module,
    genes: dict[str, Any],
    inp: InputSpec,
    seed: int,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    precision: Callable[[], Any],
) -> tuple[nn.Module, dict[str, Any]]:
    """Cut ``deploy.prune`` of the channels with the smallest L1 norms, re-estimate the batch-norm statistics,
    then fine-tune the narrower network for a quarter of the recipe's epochs (at least one) from the recipe's
    learning rate, cosine-decayed."""
    from evoforge.evaluation._prune import flat_spatial, recalibrate_batch_norms, transfer

    x_train, y_train, x_val, y_val = data
    pruned = build_network(deployed_genes(genes), inp).to(x_train.device)
    if x_train.dim() == 4 and x_train.is_contiguous(memory_format=torch.channels_last):
        pruned = pruned.to(memory_format=torch.channels_last)
    transfer(pruned, model, inp.shape[0], flat_spatial(model, x_val))
    recalibrate_batch_norms(pruned, x_train, precision)
    with precision():
        before = accuracy_and_loss(pruned, x_val, y_val)[0]
    recipe = genes["recipe"]
    tune = {**recipe, "epochs": max(1, recipe["epochs"] // 4), "schedule": "cosine"}
    training = Training(pruned, tune, seed + 1, len(y_train), x_train.device)
    noise = 0.1 * float(np.mean(inp.std))
    while training.epoch < tune["epochs"] and training.run_epoch(x_train, y_train, noise, precision):
        pass
    info = {
        "fraction": deploy_of(genes)["prune"],
        "params_before": sum(p.numel() for p in model.parameters()),
        "val_accuracy_before_finetuning": before,
        "finetune_epochs": tune["epochs"],
    }
    return pruned, info


def _final(
    model: nn.Module,
    training: Training,
    x_val: torch.Tensor,
    y_val: torch.Tensor,
    genes: dict[str, Any],
    settings: EvalSettings,
    spent: dict[str, float],
    info: dict[str, Any],
) -> TrialResult:
    """The trained model as it will be deployed (quantized, compiled, in its precision), measured."""
    from safetensors.torch import save

    from evoforge.tasks import TrialResult

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    # A run that diverged is measured as it is: quantizing or compiling non-finite weights only fails.
    deploy = deploy_of(genes) if training.finite else {**deploy_of(genes), "quantize": "none", "compile": False}
    deployed, x_val, y_val, extra = deployed_model(model, x_val, y_val, deploy)
    precision = precision_context(inference_precision(genes), x_val.device)
    reps = -(-settings.latency_batch // len(x_val))
    batch = x_val.repeat(reps, *([1] * (x_val.dim() - 1)))[: settings.latency_batch]
    with precision():
        val_acc, val_loss = accuracy_and_loss(deployed, x_val, y_val)
        latency = latency_ms(deployed, batch, settings.latency_warmup, settings.latency_repeats)
        memory = peak_memory_mb(deployed, batch)
    metrics = {
        "val_accuracy": val_acc,
        "val_loss": val_loss if training.finite and np.isfinite(val_loss) else float("inf"),
        "params": float(sum(p.numel() for p in model.parameters())),
        "flops": flops_per_sample(model, x_val),
        "latency_ms": latency,
        "peak_memory_mb": memory,
        **spent,
    }
    info.update(extra, latency_batch=settings.latency_batch, diverged=not training.finite)
    return TrialResult(metrics, save(state), info)


def deployed_model(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, deploy: dict[str, Any]
) -> tuple[nn.Module, torch.Tensor, torch.Tensor, dict[str, Any]]:
    """The model as its efficiency genes say to run it, and the data moved to where it runs: int8 dynamic
    quantization runs on CPU; ``compile`` wraps it in ``torch.compile`` (its compile time is reported)."""
    extra: dict[str, Any] = {}
    model = model.eval()
    if deploy["quantize"] == "int8":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao.quantization announces its move to torchao
            model = torch.ao.quantization.quantize_dynamic(model.cpu(), {nn.Linear}, dtype=torch.qint8)
        x, y = x.cpu(), y.cpu()
        extra["latency_device"] = "cpu (int8 dynamic quantization runs on CPU)"
    if deploy["compile"]:
        start = time.perf_counter()
        model = torch.compile(model)  # type: ignore[assignment]
        with torch.no_grad():
            model(x[:2])
        extra["compile_s"] = time.perf_counter() - start
    return model, x, y, extra


def per_input_of(
    genes: dict[str, Any], inp: InputSpec, artifact: bytes, x: np.ndarray, y: np.ndarray
) -> dict[str, np.ndarray]:
    """Per input of (x, y), the accuracy (1.0 / 0.0) and loss of the trained network rebuilt from its genes and
    weights and deployed as its genes say (``per_input``)."""
    from safetensors.torch import load

    model = build_network(deployed_genes(genes), inp)  # the pruned widths, if pruned
    model.load_state_dict(load(artifact))
    deploy = deploy_of(genes)
    cpu = torch.device("cpu")
    deployed, xt, yt, _ = deployed_model(model, _tensor(x, cpu, deploy["channels_last"]), _tensor(y, cpu), deploy)
    with precision_context(inference_precision(genes), cpu)():
        return per_input(deployed, xt, yt)

"""Check the efficiency measurements on a CUDA machine: energy from NVML (or the marked estimate without it), peak
memory from the CUDA allocator, each efficiency gene on the GPU, and training in pieces (as ASHA does) giving the
same weights as training straight through. Prints one JSON object per check.

    python benchmarks/device/efficiency_cuda.py
"""

from __future__ import annotations

import json
import time

import torch

from evoforge.design import Design
from evoforge.evaluation._energy import EnergyMeter
from evoforge.tasks import EvalSettings, make_task

GENES = {
    "arch": {
        "blocks": [{"type": "conv", "width": 32, "kernel": 3}, {"type": "pool", "op": "max"}],
        "norm": "batch",
        "activation": "relu",
        "dropout": 0.0,
        "pooling": "flatten",
        "hidden": [64],
    },
    "recipe": {
        "optimizer": "adamw",
        "lr": 0.003,
        "momentum": 0.9,
        "weight_decay": 0.0,
        "schedule": "cosine",
        "batch_size": 64,
        "epochs": 4,
        "label_smoothing": 0.0,
        "augment": "shift",
    },
}
DEPLOYS = {
    "fp32": {},
    "bf16": {"precision": "bf16"},
    "channels_last": {"channels_last": True},
    "int8": {"quantize": "int8"},
    "compile": {"compile": True},
    "prune": {"prune": 0.5},
}


def _show(**row: object) -> None:
    print(json.dumps(row, default=str), flush=True)


def main() -> None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    _show(
        check="machine",
        device=device,
        torch=torch.__version__,
        gpu=torch.cuda.get_device_name(0) if device == "cuda" else None,
    )
    with EnergyMeter(device) as meter:
        x = torch.randn(4096, 4096, device=device)
        for _ in range(50):
            x = (x @ x).clamp_(-1, 1)
        if device == "cuda":
            torch.cuda.synchronize()
        time.sleep(0.5)
    r = meter.reading()
    _show(check="energy of 50 matmuls 4096^2", joules=round(r.joules, 2), source=r.source, detail=r.detail)

    task = make_task({"name": "digits"})
    settings = EvalSettings(device=device, threads=4)
    for name, deploy in DEPLOYS.items():
        genes = {**GENES, "deploy": deploy} if deploy else GENES
        design = Design.make("macro", genes)
        try:
            result = task.evaluate(design, 7, settings)
        except Exception as exc:  # report and go on: one gene failing on this GPU should not hide the others
            _show(check=f"gene {name}", error=f"{type(exc).__name__}: {exc}"[:300])
            continue
        m = result.metrics
        _show(
            check=f"gene {name}",
            val_accuracy=round(m["val_accuracy"], 4),
            latency_ms=round(m["latency_ms"], 4),
            peak_memory_mb=round(m["peak_memory_mb"], 3),
            energy_j=round(m["energy_j"], 2),
            estimated=result.info["estimated"],
            energy_source=result.info["energy"]["source"],
            train_time_s=round(m["train_time_s"], 2),
            extra={k: result.info[k] for k in ("latency_device", "compile_s") if k in result.info},
        )

    design = Design.make("macro", {**GENES, "arch": {**GENES["arch"], "dropout": 0.2}})  # dropout: the global RNG too
    straight = task.evaluate(design, 11, settings)
    first = task.evaluate(design, 11, settings, until=1)
    second = task.evaluate(design, 11, settings, until=3, checkpoint=first.checkpoint)
    last = task.evaluate(design, 11, settings, checkpoint=second.checkpoint)
    _show(
        check="training in pieces (1, 3, 4 epochs) vs straight",
        identical_weights=last.artifact == straight.artifact,
        val_accuracy=[straight.metrics["val_accuracy"], last.metrics["val_accuracy"]],
    )


if __name__ == "__main__":
    main()

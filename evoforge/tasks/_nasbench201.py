from __future__ import annotations

import csv
import gzip
import io
import random
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field

from evoforge.design import Design
from evoforge.spaces import NB201Space, arch_string
from evoforge.tasks._base import EvalSettings, HeldOut, Task, TaskOptions, TrialResult


class NB201Options(TaskOptions):
    path: str
    sleep_s: float = Field(0.0, ge=0.0, description="wait this long per query, to emulate a real trial's duration")


@dataclass(frozen=True)
class NB201Row:
    val_seeds: tuple[float, ...]  # 200-epoch validation accuracy (%) per training seed
    val_mean: float
    test: float  # 200-epoch test accuracy (%): for reporting only
    params_m: float
    latency_s: float
    train_time_s: float  # of the full 200 epochs
    val_12: float  # 12-epoch validation accuracy (%): the cheap fidelity


@lru_cache(maxsize=4)
def load_table(path: str) -> dict[str, NB201Row]:
    """The table keyed by architecture string; a ``.gz`` file is read compressed. Cached per process."""
    raw = Path(path).read_bytes()
    text = gzip.decompress(raw).decode() if path.endswith(".gz") else raw.decode()
    table: dict[str, NB201Row] = {}
    for row in csv.DictReader(io.StringIO(text)):
        table[row["arch_str"]] = NB201Row(
            tuple(float(v) for v in row["c10_val_200ep_seeds"].split(";")),
            float(row["c10_val_200ep_mean"]),
            float(row["c10_test_200ep_mean"]),
            float(row["c10_params_MB"]),
            float(row["c10_latency_s"]),
            float(row["c10_train_time_s"]),
            float(row["c10_val_12ep"]),
        )
    return table


class NB201Task(Task):
    """NAS-Bench-201 on CIFAR-10, tabular: a query returns the recorded validation accuracy of one training
    seed picked at random (noisy, as real training is) and the recorded training time as simulated cost.

    Two fidelities: 12 epochs (the recorded 12-epoch validation accuracy, at 12/200 of the training time) and the
    full 200 epochs; a trial stopped at 12 epochs and continued costs the full time in all."""

    FIDELITIES = (12, 200)

    name = "nasbench201"
    Options = NB201Options
    metrics: frozenset[str] = frozenset({"val_accuracy", "params", "latency_ms", "train_time_s"})

    def __init__(self, options: NB201Options) -> None:
        self.options = options
        if not Path(options.path).is_file():
            raise ValueError(f"task.path: file not found: {options.path}")
        try:
            self.table = load_table(options.path)
        except (KeyError, ValueError, OSError) as exc:
            raise ValueError(f"task.path: not a NAS-Bench-201 table ({exc})") from exc
        if len(self.table) != 5**6:
            raise ValueError(f"task.path: expected 15625 cells, found {len(self.table)}")

    def space(self, options: dict[str, Any]) -> NB201Space:
        extra = set(options) - {"distinct"}
        if extra:
            raise ValueError(f"space.{sorted(extra)[0]}: the NAS-Bench-201 space takes only distinct")
        return NB201Space(str(options.get("distinct", "functions")))

    def row(self, design: Design) -> NB201Row:
        return self.table[arch_string(design.genes["edges"])]

    def fidelities(self, design: Design) -> list[int]:
        return list(self.FIDELITIES)

    def evaluate(
        self,
        design: Design,
        seed: int,
        settings: EvalSettings,
        until: int | None = None,
        checkpoint: bytes | None = None,
    ) -> TrialResult:
        row = self.row(design)
        first = int(checkpoint.decode()) if checkpoint else 0  # the simulated checkpoint is the epoch reached
        stop = 12 if until is not None and until <= 12 and first < 12 else 200
        if self.options.sleep_s:
            time.sleep(self.options.sleep_s * (stop - first) / 200)
        info = {"simulated": True, "arch": arch_string(design.genes["edges"]), "epoch": stop}
        if stop == 12:
            metrics = {"val_accuracy": row.val_12 / 100.0, "train_time_s": row.train_time_s * 12 / 200}
            info["curve"] = [{"epoch": 12, "val_accuracy": metrics["val_accuracy"]}]
            return TrialResult(metrics, info=info, checkpoint=b"12")
        val = random.Random(seed).choice(row.val_seeds)
        metrics = {
            "val_accuracy": val / 100.0,
            "params": row.params_m * 1e6,
            "latency_ms": row.latency_s * 1000.0,
            "train_time_s": row.train_time_s,
        }
        info["curve"] = [{"epoch": 200, "val_accuracy": metrics["val_accuracy"]}]
        return TrialResult(metrics, info=info)

    def test(self, design: Design, artifact: bytes | None) -> HeldOut:
        """The table's test accuracy of the cell (one number per cell: no per-input results)."""
        return HeldOut({"val_accuracy": self.row(design).test / 100.0})

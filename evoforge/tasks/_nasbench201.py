from __future__ import annotations

import csv
import gzip
import io
import random
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from evoforge.design import Design
from evoforge.spaces import NB201Space, arch_string
from evoforge.tasks._base import EvalSettings, Task, TaskOptions, TrialResult


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
    train_time_s: float


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
        )
    return table


class NB201Task(Task):
    """NAS-Bench-201 on CIFAR-10, tabular: a query returns the recorded validation accuracy of one training
    seed picked at random (noisy, as real training is) and the recorded training time as simulated cost."""

    name = "nasbench201"
    Options = NB201Options
    metrics: ClassVar[frozenset[str]] = frozenset({"val_accuracy", "params", "latency_ms", "train_time_s"})

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
        if options:
            raise ValueError(f"space.{next(iter(options))}: the NAS-Bench-201 space takes no options")
        return NB201Space()

    def row(self, design: Design) -> NB201Row:
        return self.table[arch_string(design.genes["edges"])]

    def evaluate(self, design: Design, seed: int, settings: EvalSettings) -> TrialResult:
        row = self.row(design)
        if self.options.sleep_s:
            time.sleep(self.options.sleep_s)
        val = random.Random(seed).choice(row.val_seeds)
        metrics = {
            "val_accuracy": val / 100.0,
            "params": row.params_m * 1e6,
            "latency_ms": row.latency_s * 1000.0,
            "train_time_s": row.train_time_s,
        }
        return TrialResult(metrics, info={"simulated": True, "arch": arch_string(design.genes["edges"])})

    def test_accuracy(self, design: Design, artifact: bytes | None) -> float:
        return self.row(design).test / 100.0

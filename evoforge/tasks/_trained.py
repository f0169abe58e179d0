from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from evoforge.design import Design
from evoforge.spaces import InputSpec, MacroOptions, MacroSpace
from evoforge.tasks._base import EvalSettings, HeldOut, Task, TrialResult


@dataclass(frozen=True)
class Splits:
    """Raw (unnormalized) float32 inputs and int64 labels of a fixed train / validation / test split, and the name
    of each class (label ``i`` is ``class_names[i]``) where the data names them."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...] = ()

    def input_spec(self) -> InputSpec:
        x = self.x_train
        classes = int(max(self.y_train.max(), self.y_val.max(), self.y_test.max())) + 1
        axes = (0, 2, 3) if x.ndim == 4 else (0,)
        mean = x.mean(axis=axes).astype(np.float64)
        std = np.maximum(x.std(axis=axes), 1e-6).astype(np.float64)
        return InputSpec(tuple(x.shape[1:]), classes, tuple(mean.round(6).tolist()), tuple(std.round(6).tolist()))


def split_fixed(
    x: np.ndarray, y: np.ndarray, val: float, test: float, seed: int = 0, class_names: tuple[str, ...] = ()
) -> Splits:
    """A stratified split that depends only on the data and ``seed``: the same every time, everywhere."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    rest, test_idx = train_test_split(idx, test_size=test, random_state=seed, stratify=y)
    train_idx, val_idx = train_test_split(rest, test_size=val / (1 - test), random_state=seed, stratify=y[rest])
    x, y = x.astype(np.float32), y.astype(np.int64)
    return Splits(x[train_idx], y[train_idx], x[val_idx], y[val_idx], x[test_idx], y[test_idx], class_names)


class TrainedTask(Task):
    """A task whose designs are macro-space networks trained from scratch on in-memory splits."""

    metrics: frozenset[str] = frozenset(
        {
            "val_accuracy",
            "val_loss",
            "params",
            "flops",
            "latency_ms",
            "peak_memory_mb",
            "energy_j",
            "train_time_s",
            "time_to_accuracy_s",
        }
    )

    curve_metrics: frozenset[str] = frozenset({"val_accuracy", "val_loss"})

    def __init__(self) -> None:
        self._splits: Splits | None = None

    @abstractmethod
    def load_splits(self) -> Splits:
        """Read the data and split it; called once per process."""

    def load(self) -> None:
        _ = self.splits

    @property
    def splits(self) -> Splits:
        if self._splits is None:
            self._splits = self.load_splits()
        return self._splits

    def space(self, options: dict[str, Any]) -> MacroSpace:
        return MacroSpace(self.splits.input_spec(), MacroOptions(**options))

    def evaluate(
        self,
        design: Design,
        seed: int,
        settings: EvalSettings,
        until: int | None = None,
        checkpoint: bytes | None = None,
    ) -> TrialResult:
        from evoforge.evaluation import train_and_measure

        result = train_and_measure(design.genes, self.splits, seed, settings, until, checkpoint)
        names = self.splits.class_names
        return replace(result, info={**result.info, "class_names": list(names)}) if names else result

    def test(self, design: Design, artifact: bytes | None) -> HeldOut:
        """Accuracy and cross-entropy on the test split, per input and on average."""
        from evoforge.evaluation import per_input_of

        if artifact is None:
            raise ValueError("a trained task needs the design's weights to measure it on the test split")
        s = self.splits
        samples = per_input_of(design.genes, s.input_spec(), artifact, s.x_test, s.y_test)
        metrics = {name: float(np.mean(values)) for name, values in samples.items()}
        return HeldOut(metrics, {name: values.tolist() for name, values in samples.items()})

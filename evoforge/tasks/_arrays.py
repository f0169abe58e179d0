from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import Field

from evoforge.tasks._base import TaskOptions
from evoforge.tasks._trained import Splits, TrainedTask, split_fixed


class ArraysOptions(TaskOptions):
    path: str
    label_column: int = -1  # CSV only: which column holds the class label
    val_fraction: float = Field(0.2, gt=0, lt=0.5)
    test_fraction: float = Field(0.2, gt=0, lt=0.5)


class ArraysTask(TrainedTask):
    """A user's features and labels: an ``.npz`` with arrays ``x`` and ``y`` (x: (N, F) or (N, C, H, W)),
    or a ``.csv`` of numbers with one header row and the label in ``label_column``."""

    name = "arrays"
    Options = ArraysOptions

    def __init__(self, options: ArraysOptions) -> None:
        super().__init__()
        self.options = options
        self.path = Path(options.path)
        if not self.path.is_file():
            raise ValueError(f"task.path: file not found: {self.path}")
        if self.path.suffix not in (".npz", ".csv"):
            raise ValueError(f"task.path: expected a .npz or .csv file, got {self.path.name}")

    def _read(self) -> tuple[np.ndarray, np.ndarray]:
        if self.path.suffix == ".npz":
            with np.load(self.path) as data:
                keys = {k.lower(): k for k in data.files}
                if "x" not in keys or "y" not in keys:
                    raise ValueError(f"task.path: {self.path.name} must hold arrays 'x' and 'y'")
                return data[keys["x"]], data[keys["y"]]
        table = np.loadtxt(self.path, delimiter=",", skiprows=1, dtype=np.float64, ndmin=2)
        col = self.options.label_column % table.shape[1]
        return np.delete(table, col, axis=1), table[:, col]

    def load_splits(self) -> Splits:
        x, y = self._read()
        if x.ndim == 3:
            x = x[:, None]  # (N, H, W) -> (N, 1, H, W)
        if x.ndim not in (2, 4) or len(x) != len(y):
            raise ValueError(f"task.path: x must be (N, F) or (N, C, H, W) with one label per row, got {x.shape}")
        _, codes = np.unique(y, return_inverse=True)  # labels of any kind -> 0..K-1
        return split_fixed(x, codes, self.options.val_fraction, self.options.test_fraction)

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
from pydantic import Field

from evoforge.tasks._base import TaskOptions
from evoforge.tasks._trained import Splits, TrainedTask, split_fixed

_FILES = {"images": ("images-idx3-ubyte", 2051), "labels": ("labels-idx1-ubyte", 2049)}


class MnistOptions(TaskOptions):
    path: str
    limit: int | None = Field(None, gt=100, description="use only the first N images (a smaller, faster task)")
    val_fraction: float = Field(0.2, gt=0, lt=0.5)
    test_fraction: float = Field(0.2, gt=0, lt=0.5)


def _find(folder: Path, suffix: str) -> Path:
    found = sorted(p for p in folder.iterdir() if p.name.endswith((suffix, suffix + ".gz")))
    if not found:
        raise ValueError(f"task.path: no *{suffix}[.gz] file in {folder}")
    return found[0]


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Read an IDX file (optionally gzip'd): big-endian magic, dimension sizes, then uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    if struct.unpack(">I", data[:4])[0] != magic:
        raise ValueError(f"task.path: {path.name} is not an IDX file with magic {magic}")
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class MnistTask(TrainedTask):
    """MNIST from IDX files in a folder (e.g. the 10,000-image test set), split into train / val / test."""

    name = "mnist"
    Options = MnistOptions

    def __init__(self, options: MnistOptions) -> None:
        super().__init__()
        self.options = options
        folder = Path(options.path)
        if not folder.is_dir():
            raise ValueError(f"task.path: folder not found: {folder}")
        self._images = _find(folder, _FILES["images"][0])
        self._labels = _find(folder, _FILES["labels"][0])

    def load_splits(self) -> Splits:
        images = read_idx(self._images, _FILES["images"][1])  # (N, 28, 28) uint8
        labels = read_idx(self._labels, _FILES["labels"][1])  # (N,) uint8
        n = min(len(images), self.options.limit or len(images))
        x = (images[:n].astype(np.float32) / 255.0).reshape(n, 1, *images.shape[1:])
        return split_fixed(x, labels[:n], self.options.val_fraction, self.options.test_fraction)

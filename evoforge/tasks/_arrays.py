from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from pydantic import Field

from evoforge.tasks._base import TaskOptions
from evoforge.tasks._trained import Splits, TrainedTask, split_fixed


class ArraysOptions(TaskOptions):
    path: str
    label_column: int | str = -1  # CSV only: the label's column, by index or by its header name
    val_fraction: float = Field(0.2, gt=0, lt=0.5)
    test_fraction: float = Field(0.2, gt=0, lt=0.5)


class ArraysTask(TrainedTask):
    """A user's features and labels: an ``.npz`` with arrays ``x`` and ``y`` (x: (N, F) or (N, C, H, W)), or a
    ``.csv`` with one header row, numbers as features and the label (numbers or names) in ``label_column``. Labels
    become 0..K-1 in sorted order; ``class_names`` of the splits says which is which."""

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
        if self.path.suffix == ".csv":
            label_index(csv_header(self.path), options.label_column)  # a wrong name is a goal error, found now

    def _read(self) -> tuple[np.ndarray, np.ndarray]:
        if self.path.suffix == ".npz":
            with np.load(self.path) as data:
                keys = {k.lower(): k for k in data.files}
                if "x" not in keys or "y" not in keys:
                    raise ValueError(f"task.path: {self.path.name} must hold arrays 'x' and 'y'")
                return data[keys["x"]], data[keys["y"]]
        return read_csv(self.path, self.options.label_column)

    def load_splits(self) -> Splits:
        x, y = self._read()
        if x.ndim == 3:
            x = x[:, None]  # (N, H, W) -> (N, 1, H, W)
        if x.ndim not in (2, 4) or len(x) != len(y):
            raise ValueError(f"task.path: x must be (N, F) or (N, C, H, W) with one label per row, got {x.shape}")
        labels, codes = np.unique(y, return_inverse=True)  # labels of any kind -> 0..K-1
        names = tuple(f"{v:g}" if isinstance(v, float) else str(v) for v in labels.tolist())
        return split_fixed(x, codes, self.options.val_fraction, self.options.test_fraction, class_names=names)


def read_csv(path: Path, label_column: int | str) -> tuple[np.ndarray, np.ndarray]:
    """Features (N, F) and labels (N,) of a CSV with a header row: labels as numbers when every one is a number,
    else as the names written (stripped of spaces); a ``ValueError`` naming the first cell that is not a number."""
    header, rows = _rows(path)
    col = label_index(header, label_column)
    for line, row in rows:
        if len(row) != len(header):
            raise ValueError(f"task.path: {path.name} line {line} has {len(row)} cells, the header {len(header)}")
    table = np.array([row for _, row in rows], dtype=str)  # (N, F + 1)
    try:
        x = np.delete(table, col, axis=1).astype(np.float64)  # (N, F)
    except ValueError:
        line, c, cell = next(
            (line, c, v) for line, row in rows for c, v in enumerate(row) if c != col and not _number(v)
        )
        raise ValueError(
            f"task.path: {path.name} line {line}, column {header[c]!r}: {cell!r} is not a number"
        ) from None
    labels = np.char.strip(table[:, col])  # (N,)
    try:
        return x, labels.astype(np.float64)
    except ValueError:
        return x, labels  # names


def csv_header(path: Path) -> list[str]:
    return _rows(path, header_only=True)[0]


def _rows(path: Path, header_only: bool = False) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header's names and the rows of data with their line numbers, blank lines skipped."""
    rows: list[tuple[int, list[str]]] = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        for line, row in enumerate(csv.reader(f), start=1):
            if any(cell.strip() for cell in row):
                rows.append((line, row))
            if header_only and rows:
                break
    if not rows or (len(rows) < 2 and not header_only):
        raise ValueError(f"task.path: {path.name} needs a header row and at least one row of data")
    header = [cell.strip() for cell in rows[0][1]]
    header[0] = header[0].lstrip("#").strip()  # numpy's savetxt writes the header as a comment
    return header, rows[1:]


def label_index(header: list[str], label_column: int | str) -> int:
    """The index of the label's column, given by header name or by index (negative counts from the end)."""
    if isinstance(label_column, str):
        if label_column not in header:
            raise ValueError(f"task.label_column: no column {label_column!r}; the header has {', '.join(header)}")
        return header.index(label_column)
    if not -len(header) <= label_column < len(header):
        raise ValueError(f"task.label_column: {label_column} is outside the {len(header)} columns")
    return label_column % len(header)


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True

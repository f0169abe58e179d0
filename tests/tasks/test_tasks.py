from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evoforge import GoalError
from evoforge.spaces import NB201Space
from evoforge.tasks import EvalSettings, make_task
from tests.conftest import MNIST_PATH, NB201_PATH


def _disjoint_sizes(task) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    s = task.splits
    return len(s.y_train), len(s.y_val), len(s.y_test)


def test_digits_splits_are_fixed_and_stratified() -> None:
    a, b = make_task({"name": "digits"}), make_task({"name": "digits"})
    assert _disjoint_sizes(a) == (1077, 360, 360)
    assert np.array_equal(a.splits.x_val, b.splits.x_val)
    assert a.splits.x_train.shape[1:] == (1, 8, 8)
    assert set(np.bincount(a.splits.y_test)) <= {35, 36, 37}


def test_mnist_reads_idx_files_and_splits_them() -> None:
    task = make_task({"name": "mnist", "path": MNIST_PATH, "limit": 1000})
    assert _disjoint_sizes(task) == (600, 200, 200)
    assert task.splits.x_train.shape[1:] == (1, 28, 28)
    assert task.splits.x_train.min() >= 0.0 and task.splits.x_train.max() <= 1.0


def test_arrays_reads_npz_and_csv(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(200, 6)), np.repeat(["a", "b"], 100)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    task = make_task({"name": "arrays", "path": str(tmp_path / "data.npz")})
    assert task.splits.x_train.shape == (120, 6) and set(task.splits.y_train) == {0, 1}
    csv = tmp_path / "data.csv"
    np.savetxt(csv, np.column_stack([x, np.repeat([0, 1], 100)]), delimiter=",", header="a,b,c,d,e,f,label")
    task = make_task({"name": "arrays", "path": str(csv)})
    assert task.splits.input_spec().shape == (6,) and task.splits.input_spec().classes == 2
    assert task.space({}).options.max_blocks == 0


def test_arrays_refuses_files_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "data.txt").write_text("1,2\n")
    with pytest.raises(GoalError, match="task.path: expected a .npz or .csv file"):
        make_task({"name": "arrays", "path": str(tmp_path / "data.txt")})


def test_nasbench201_lookup_returns_recorded_values() -> None:
    task = make_task({"name": "nasbench201", "path": NB201_PATH})
    best = max(task.table, key=lambda k: task.table[k].val_mean)  # type: ignore[attr-defined]
    design = NB201Space().from_arch_string(best)
    assert task.table[best].val_mean == pytest.approx(91.606667, abs=1e-3)  # type: ignore[attr-defined]
    assert task.test_accuracy(design, None) == pytest.approx(0.943733, abs=1e-5)
    seeds = {v / 100 for v in task.table[best].val_seeds}  # type: ignore[attr-defined]
    values = {task.evaluate(design, s, EvalSettings()).metrics["val_accuracy"] for s in range(40)}
    assert values <= seeds and len(values) > 1  # one seed at random: noisy, as real training is
    metrics = task.evaluate(design, 0, EvalSettings()).metrics
    assert metrics["train_time_s"] > 0 and metrics["params"] > 0 and "test_accuracy" not in metrics


def test_nasbench201_table_has_every_cell() -> None:
    task = make_task({"name": "nasbench201", "path": NB201_PATH})
    assert len(task.table) == 15625  # type: ignore[attr-defined]

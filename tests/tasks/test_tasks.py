from __future__ import annotations

from collections.abc import Sequence
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
    assert task.test(design, None).metrics["val_accuracy"] == pytest.approx(0.943733, abs=1e-5)
    seeds = {v / 100 for v in task.table[best].val_seeds}  # type: ignore[attr-defined]
    values = {task.evaluate(design, s, EvalSettings()).metrics["val_accuracy"] for s in range(40)}
    assert values <= seeds and len(values) > 1  # one seed at random: noisy, as real training is
    metrics = task.evaluate(design, 0, EvalSettings()).metrics
    assert metrics["train_time_s"] > 0 and metrics["params"] > 0 and "test_accuracy" not in metrics


def test_nasbench201_table_has_every_cell() -> None:
    task = make_task({"name": "nasbench201", "path": NB201_PATH})
    assert len(task.table) == 15625  # type: ignore[attr-defined]


def _write_csv(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> str:
    path.write_text("\n".join(",".join(str(cell) for cell in row) for row in [header, *rows]) + "\n")
    return str(path)


def test_arrays_csv_label_column_by_name_holds_class_names(tmp_path: Path) -> None:
    species = ["setosa", "virginica", "versicolor"] * 20
    rows = [[i, name, i % 7 / 7] for i, name in enumerate(species)]  # the first feature is the row's number
    csv = _write_csv(tmp_path / "iris.csv", ["row", "species", "petal"], rows)
    by_name = make_task({"name": "arrays", "path": csv, "label_column": "species"})
    by_index = make_task({"name": "arrays", "path": csv, "label_column": 1})
    s = by_name.splits  # type: ignore[attr-defined]
    assert s.x_train.shape == (36, 2) and s.class_names == ("setosa", "versicolor", "virginica")
    assert [s.class_names[y] for y in s.y_train] == [species[int(x[0])] for x in s.x_train]
    assert np.array_equal(s.x_val, by_index.splits.x_val)  # type: ignore[attr-defined]


def test_arrays_numeric_csv_labels_keep_their_numeric_order(tmp_path: Path) -> None:
    rows = [[i, 10 if i % 2 else 2] for i in range(40)]
    task = make_task({"name": "arrays", "path": _write_csv(tmp_path / "d.csv", ["x", "label"], rows)})
    assert task.splits.class_names == ("2", "10")  # type: ignore[attr-defined]


def test_arrays_csv_errors_name_the_column_or_cell(tmp_path: Path) -> None:
    csv = _write_csv(tmp_path / "d.csv", ["a", "b", "kind"], [[1, 2, "x"], [3, "n/a", "y"]])
    with pytest.raises(GoalError, match=r"^task\.label_column: no column 'label'; the header has a, b, kind$"):
        make_task({"name": "arrays", "path": csv, "label_column": "label"})
    with pytest.raises(GoalError, match=r"^task\.label_column: 3 is outside the 3 columns$"):
        make_task({"name": "arrays", "path": csv, "label_column": 3})
    task = make_task({"name": "arrays", "path": csv})
    with pytest.raises(ValueError, match=r"^task\.path: d\.csv line 3, column 'b': 'n/a' is not a number$"):
        task.load()

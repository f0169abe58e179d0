"""The images task on real PNG files: scikit-learn's 8x8 digits written as a folder of images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from evoforge import GoalError, Store
from evoforge.export import export_champion
from evoforge.goal import goal_from_dict
from evoforge.study import run_study
from evoforge.tasks import Task, make_task

NAMES = ("zero", "one", "two", "three")  # sorted: one, three, two, zero


def write_digits(
    folder: Path, per_class: int = 30, start: int = 0, rgb: bool = True, names: tuple[str, ...] = NAMES
) -> None:
    """Digits ``start`` .. ``start + per_class`` of each class as PNG files in ``folder/<name>/``: 8x8 grayscale,
    except every 5th upscaled to 16x16 and (with ``rgb``) every 7th saved as RGB."""
    from sklearn.datasets import load_digits

    data = load_digits()
    for label, name in enumerate(names):
        (folder / name).mkdir(parents=True)
        for i, pixels in enumerate(data.images[data.target == label][start : start + per_class]):
            img = Image.fromarray((pixels * 255 / 16).round().astype(np.uint8))  # mode L
            if i % 5 == 4:
                img = img.resize((16, 16), Image.Resampling.BILINEAR)
            if rgb and i % 7 == 6:
                img = img.convert("RGB")
            img.save(folder / name / f"{i:03d}.png")


def images(path: Path, **options: Any) -> Task:
    task = make_task({"name": "images", "path": str(path), **options})
    task.load()
    return task


def test_class_folders_are_split_fixed_and_stratified(tmp_path: Path) -> None:
    write_digits(tmp_path)
    a, b = images(tmp_path), images(tmp_path)
    s = a.splits  # type: ignore[attr-defined]
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (72, 24, 24)
    assert list(np.bincount(s.y_test)) == [6, 6, 6, 6] and list(np.bincount(s.y_val)) == [6, 6, 6, 6]
    assert np.array_equal(s.x_val, b.splits.x_val) and np.array_equal(s.y_train, b.splits.y_train)  # type: ignore[attr-defined]
    assert a.class_names == s.class_names == ("one", "three", "two", "zero")  # type: ignore[attr-defined]
    assert s.x_train.dtype == np.float32 and s.x_train.min() >= 0.0 and s.x_train.max() <= 1.0


def test_labels_follow_the_sorted_class_names(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    write_digits(tmp_path, rgb=False)
    s = images(tmp_path).splits  # type: ignore[attr-defined]
    data = load_digits()
    zero = (data.images[data.target == 0][0] * 255 / 16).round() / 255  # zero/000.png, an 8x8 image
    x = np.concatenate([s.x_train, s.x_val, s.x_test])[:, 0]  # (N, 8, 8)
    y = np.concatenate([s.y_train, s.y_val, s.y_test])
    found = y[np.isclose(x, zero, atol=1e-6).all(axis=(1, 2))]
    assert list(found) == [3]  # "zero" is the last name in sorted order


def test_split_folders_are_used_as_given(tmp_path: Path) -> None:
    for split, (start, count) in {"train": (0, 20), "val": (20, 6), "test": (26, 4)}.items():
        write_digits(tmp_path / split, per_class=count, start=start)
    s = images(tmp_path).splits  # type: ignore[attr-defined]
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (80, 24, 16)
    assert list(np.bincount(s.y_val)) == [6, 6, 6, 6] and s.class_names == ("one", "three", "two", "zero")


def test_images_are_resized_to_the_first_images_size_or_input_size(tmp_path: Path) -> None:
    write_digits(tmp_path)
    assert images(tmp_path).splits.x_train.shape[1:] == (3, 8, 8)  # type: ignore[attr-defined]
    assert images(tmp_path, input_size=12).splits.x_train.shape[1:] == (3, 12, 12)  # type: ignore[attr-defined]
    assert images(tmp_path, input_size=[10, 6]).splits.x_train.shape[1:] == (3, 10, 6)  # type: ignore[attr-defined]
    with pytest.raises(GoalError, match=r"^task\.input_size: expected a positive size or \[height, width\], got 0$"):
        images(tmp_path, input_size=0)


def test_color_is_grayscale_only_when_every_image_is(tmp_path: Path) -> None:
    write_digits(tmp_path / "mixed")
    write_digits(tmp_path / "gray", rgb=False)
    assert images(tmp_path / "mixed").splits.x_train.shape[1] == 3  # type: ignore[attr-defined]
    assert images(tmp_path / "gray").splits.x_train.shape[1] == 1  # type: ignore[attr-defined]
    assert images(tmp_path / "mixed", color="grayscale").splits.x_train.shape[1] == 1  # type: ignore[attr-defined]
    rgb = images(tmp_path / "gray", color="rgb").splits.x_train  # type: ignore[attr-defined]
    assert rgb.shape[1] == 3 and np.array_equal(rgb[:, 0], rgb[:, 2])  # gray made RGB: three equal channels


def test_limit_keeps_the_first_images_of_each_class(tmp_path: Path) -> None:
    write_digits(tmp_path)
    s = images(tmp_path, limit=10).splits  # type: ignore[attr-defined]
    assert len(s.y_train) + len(s.y_val) + len(s.y_test) == 40


def test_the_images_space_offers_flip_and_crop_unless_the_goal_says_otherwise(tmp_path: Path) -> None:
    write_digits(tmp_path)
    task = images(tmp_path)
    assert task.space({}).options.augments == ["none", "flip", "crop", "shift", "noise"]  # type: ignore[attr-defined]
    assert task.space({"augments": ["none"]}).options.augments == ["none"]  # type: ignore[attr-defined]


def _single_class(root: Path) -> None:
    write_digits(root, names=("one",))


def _empty_class(root: Path) -> None:
    write_digits(root)
    (root / "five").mkdir()
    (root / "five" / "notes.txt").write_text("not an image")


def _unreadable(root: Path) -> None:
    write_digits(root)
    (root / "one" / "bad.png").write_text("not a png")


def _too_few(root: Path) -> None:
    write_digits(root)
    for extra in sorted((root / "two").iterdir())[2:]:
        extra.unlink()


def _no_test_folder(root: Path) -> None:
    write_digits(root / "train", per_class=5)
    write_digits(root / "val", per_class=5)


def _classes_differ(root: Path) -> None:
    write_digits(root / "train", per_class=5)
    write_digits(root / "val", per_class=5, names=("zero", "one", "two"))
    write_digits(root / "test", per_class=5, names=("zero", "one", "two", "three", "four"))


BAD = {
    "missing": (lambda root: None, r"^task\.path: folder not found: "),
    "no classes": (lambda root: (root / "a.png").write_bytes(b""), r"^task\.path: no class subfolders in "),
    "empty class": (_empty_class, r"^task\.path: no images in class folder 'five' of "),
    "single class": (_single_class, r"^task\.path: only one class \('one'\) in "),
    "unreadable": (_unreadable, r"^task\.path: cannot read one/bad\.png as an image: "),
    "too few": (_too_few, r"^task\.path: too few images to split .*: 'two' \(2\)$"),
    "split missing": (_no_test_folder, r"^task\.path: .* has train/, val/ but no test/"),
    "classes differ": (_classes_differ, r"same classes: train/ lacks 'four'; val/ lacks 'four', 'three'$"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_folder_gets_one_line_naming_the_problem(tmp_path: Path, case: str) -> None:
    make, message = BAD[case]
    root = tmp_path / "images"
    if case != "missing":
        root.mkdir()
        make(root)
    with pytest.raises((GoalError, ValueError), match=message) as caught:
        images(root)
    assert "\n" not in str(caught.value)


def test_a_study_trains_on_the_folder_and_the_card_names_the_classes(tmp_path: Path) -> None:
    write_digits(tmp_path / "images")
    goal = {
        "study": "photos",
        "task": {"name": "images", "path": str(tmp_path / "images")},
        "space": {
            "epochs": [3, 4],
            "widths": [8],
            "max_blocks": 1,
            "optimizers": ["adamw"],
            "batch_sizes": [16],
            "lr": [0.003, 0.03],
        },
        "objectives": {"val_accuracy": "max"},
        "budget": {"trials": 3, "trial_timeout_s": 120},
        "search": {"proposer": "random", "seed": 0},
        "evaluation": {"device": "cpu"},
    }
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    run_study(goal_from_dict(goal), storage, workers=0)
    store = Store(storage)
    study = store.get_study("photos")
    assert study is not None
    trials = store.trials(study.id)
    assert [t.state for t in trials] == ["complete"] * 3
    assert max(t.metrics["val_accuracy"] for t in trials) > 0.6  # four classes: chance is 0.25
    assert trials[0].info["class_names"] == ["one", "three", "two", "zero"]
    export_champion(store, study, tmp_path / "out")
    card = json.loads((tmp_path / "out" / "card.json").read_text())
    assert card["class_names"] == ["one", "three", "two", "zero"]

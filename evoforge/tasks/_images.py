from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from evoforge.spaces import MacroSpace
from evoforge.tasks._base import TaskOptions
from evoforge.tasks._trained import Splits, TrainedTask, split_fixed

EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
SPLITS = ("train", "val", "test")
MIN_PER_CLASS = 3  # one image each for train, validation and test
# Photos are worth mirroring and cropping; a goal's ``space.augments`` overrides this.
IMAGE_AUGMENTS = ["none", "flip", "crop", "shift", "noise"]

Groups = dict[str, list[Path]]  # class name -> its image files, both sorted
T = TypeVar("T")


class ImagesOptions(TaskOptions):
    path: str
    input_size: tuple[int, int] | None = None  # (height, width) or one side for both; default: the first image's size
    color: Literal["auto", "grayscale", "rgb"] = "auto"  # auto: grayscale when every image is single-channel
    limit: int | None = Field(None, ge=1, description="use at most the first N images of each class (per folder)")
    val_fraction: float = Field(0.2, gt=0, lt=0.5)
    test_fraction: float = Field(0.2, gt=0, lt=0.5)

    @field_validator("input_size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        size = (value, value) if isinstance(value, int) else value
        if value is not None and not (
            isinstance(size, (list, tuple)) and len(size) == 2 and all(type(v) is int and v > 0 for v in size)
        ):
            raise PydanticCustomError(
                "size", "expected a positive size or [height, width], got {value}", {"value": value}
            )
        return size


class ImagesTask(TrainedTask):
    """A folder of images read with Pillow: one subfolder of images per class, split here (stratified, fixed), or
    ``train/``, ``val/`` and ``test/`` folders of class subfolders, used as given. Images are resized (bilinear) to
    ``input_size``; pixels become float32 in [0, 1], shape (N, C, H, W). Label ``i`` is the ``i``-th class name in
    sorted order (``class_names``)."""

    name = "images"
    Options = ImagesOptions

    def __init__(self, options: ImagesOptions) -> None:
        super().__init__()
        self.options = options
        self.root = Path(options.path)
        self.layout = scan(self.root, options.limit)
        self.class_names = tuple(next(iter(self.layout.values())))

    def space(self, options: dict[str, Any]) -> MacroSpace:
        return super().space({"augments": IMAGE_AUGMENTS, **options})

    def load_splits(self) -> Splits:
        files = [p for groups in self.layout.values() for paths in groups.values() for p in paths]
        gray, first = survey(files, self.root)
        rgb = self.options.color == "rgb" or (self.options.color == "auto" and not gray)
        size = self.options.input_size or first
        data = {split: load(groups, self.root, rgb, size) for split, groups in self.layout.items()}
        if "" not in data:
            (x_train, y_train), (x_val, y_val), (x_test, y_test) = (data[s] for s in SPLITS)
            return Splits(x_train, y_train, x_val, y_val, x_test, y_test, self.class_names)
        (x, y), o = data[""], self.options
        try:
            return split_fixed(x, y, o.val_fraction, o.test_fraction, class_names=self.class_names)
        except ValueError as exc:  # scikit-learn: a split would lack a class
            raise ValueError(f"task.path: too few images to split by class: {exc}") from None


def scan(root: Path, limit: int | None) -> dict[str, Groups]:
    """The image files of each class by split (``train``, ``val``, ``test``), or under ``""`` when the folder
    holds the classes themselves; a ``ValueError`` naming what is wrong with the layout."""
    if not root.is_dir():
        raise ValueError(f"task.path: folder not found: {root}")
    present = [s for s in SPLITS if (root / s).is_dir()]
    if not present:
        groups = classes(root, limit)
        few = [f"{name!r} ({len(paths)})" for name, paths in groups.items() if len(paths) < MIN_PER_CLASS]
        if few:
            raise ValueError(
                f"task.path: too few images to split into train / val / test (at least {MIN_PER_CLASS} per class): "
                f"{', '.join(few)}"
            )
        return {"": groups}
    if len(present) < len(SPLITS):
        has, missing = (", ".join(f"{s}/" for s in SPLITS if (s in present) == want) for want in (True, False))
        raise ValueError(f"task.path: {root} has {has} but no {missing}: split folders need all three")
    layout = {s: classes(root / s, limit) for s in SPLITS}
    every = set().union(*layout.values())
    lacking = {s: ", ".join(map(repr, sorted(every - set(groups)))) for s, groups in layout.items()}
    if any(lacking.values()):
        which = "; ".join(f"{s}/ lacks {names}" for s, names in lacking.items() if names)
        raise ValueError(f"task.path: train/, val/ and test/ must hold the same classes: {which}")
    return layout


def classes(folder: Path, limit: int | None) -> Groups:
    """One subfolder per class, each with at least one image; hidden files and folders are ignored."""
    dirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not dirs:
        raise ValueError(f"task.path: no class subfolders in {folder} (expected one folder of images per class)")
    groups = {d.name: images_in(d)[:limit] for d in dirs}
    empty = [repr(name) for name, paths in groups.items() if not paths]
    if empty:
        raise ValueError(f"task.path: no images in class folder {', '.join(empty)} of {folder}")
    if len(groups) < 2:
        raise ValueError(f"task.path: only one class ({dirs[0].name!r}) in {folder}: a classifier needs two or more")
    return groups


def images_in(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in EXTENSIONS
    )


def survey(files: list[Path], root: Path) -> tuple[bool, tuple[int, int]]:
    """Whether every image is single-channel, and the first one's (height, width), from their headers."""
    single = {("1",), ("L",), ("I",), ("F",), ("L", "A")}
    gray = all(read(path, root, lambda img: img.getbands() in single) for path in files)
    return gray, read(files[0], root, lambda img: (img.height, img.width))


def load(groups: Groups, root: Path, rgb: bool, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The images of every class as (N, C, H, W) float32 in [0, 1] and their class indices (N,)."""
    paths = [p for ps in groups.values() for p in ps]
    x = np.empty((len(paths), 3 if rgb else 1, *size), dtype=np.float32)  # (N, C, H, W)
    for i, path in enumerate(paths):
        x[i] = read(path, root, lambda img: pixels(img, rgb, size))
    y = np.concatenate([np.full(len(ps), label, dtype=np.int64) for label, ps in enumerate(groups.values())])
    return x, y


def read(path: Path, root: Path, use: Callable[[Any], T]) -> T:
    """``use`` applied to the image at ``path`` opened with Pillow, or a ``ValueError`` naming the file."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            return use(img)
    except Exception as exc:  # any decoder's error (truncated, unknown format, too large) is the file's
        detail = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise ValueError(f"task.path: cannot read {path.relative_to(root)} as an image: {detail}") from None


def pixels(img: Any, rgb: bool, size: tuple[int, int]) -> np.ndarray:
    """One image as (C, H, W) float32 in [0, 1], resized (bilinear) to ``size`` = (height, width)."""
    from PIL import Image

    if img.mode.startswith("I"):  # 16-bit grayscale: Pillow's 8-bit conversion would clip it
        img, scale = Image.fromarray(np.asarray(img, dtype=np.float32) / 65535.0), 1.0  # mode F
    else:
        img, scale = img.convert("RGB" if rgb else "L"), 1 / 255
    if img.size != size[::-1]:
        img = img.resize(size[::-1], Image.Resampling.BILINEAR)  # Pillow sizes are (width, height)
    a = np.asarray(img, dtype=np.float32) * scale  # (H, W) or (H, W, 3)
    if a.ndim == 3:
        return a.transpose(2, 0, 1)  # (3, H, W)
    return np.repeat(a[None], 3 if rgb else 1, axis=0)  # (C, H, W)

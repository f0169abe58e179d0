"""Training-time augmentation: each kind keeps the batch's shape, draws only from the generator it is given, and
does what its name says."""

from __future__ import annotations

import pytest
import torch

from evoforge.design import Design
from evoforge.evaluation._train import augment
from evoforge.tasks import EvalSettings, make_task
from tests.conftest import SMALL_DIGITS_GENES


def _batch(n: int = 64, side: int = 16) -> torch.Tensor:
    # Every pixel of every image distinct and nonzero, so a moved or mirrored copy is recognisable.
    return torch.arange(1, n * 2 * side * side + 1, dtype=torch.float32).reshape(n, 2, side, side)  # (N, C, H, W)


def _offsets(x: torch.Tensor, out: torch.Tensor, reach: int) -> list[tuple[int, int]]:
    """For each image, the (dy, dx) by which ``out`` is ``x`` moved with zero fill (it must be one of them)."""
    found = []
    padded = torch.nn.functional.pad(x, (reach, reach, reach, reach))  # (N, C, H+2r, W+2r)
    h, w = x.shape[2:]
    for i in range(len(x)):
        moves = [
            (dy, dx)
            for dy in range(-reach, reach + 1)
            for dx in range(-reach, reach + 1)
            if torch.equal(out[i], padded[i, :, reach - dy : reach - dy + h, reach - dx : reach - dx + w])
        ]
        assert len(moves) == 1
        found.append(moves[0])
    return found


@pytest.mark.parametrize("kind", ["none", "shift", "noise", "flip", "crop"])
def test_the_same_seed_gives_the_same_batch_of_the_same_shape(kind: str) -> None:
    x = _batch()
    a = augment(x, kind, 0.1, torch.Generator().manual_seed(3))
    b = augment(x, kind, 0.1, torch.Generator().manual_seed(3))
    c = augment(x, kind, 0.1, torch.Generator().manual_seed(4))
    assert a.shape == x.shape and torch.equal(a, b)
    assert torch.equal(a, c) == (kind == "none")


def test_flip_mirrors_some_images_left_right_and_leaves_the_others() -> None:
    x = _batch()
    out = augment(x, "flip", 0.0, torch.Generator().manual_seed(0))
    mirrored = [torch.equal(o, i.flip(-1)) for o, i in zip(out, x, strict=True)]
    kept = [torch.equal(o, i) for o, i in zip(out, x, strict=True)]
    assert all(m != k for m, k in zip(mirrored, kept, strict=True))  # each image one or the other
    assert 10 < sum(mirrored) < 54  # about half of 64


def test_crop_moves_each_image_by_up_to_an_eighth_of_its_side() -> None:
    x = _batch(side=16)
    moves = _offsets(x, augment(x, "crop", 0.0, torch.Generator().manual_seed(0)), reach=2)
    reach = {max(abs(dy), abs(dx)) for dy, dx in moves}
    assert 2 in reach and reach <= {0, 1, 2}  # 16 / 8: up to two pixels


def test_shift_still_moves_by_at_most_one_pixel() -> None:
    x = _batch(side=16)
    moves = _offsets(x, augment(x, "shift", 0.0, torch.Generator().manual_seed(0)), reach=2)
    reach = {max(abs(dy), abs(dx)) for dy, dx in moves}
    assert 1 in reach and reach <= {0, 1}


@pytest.mark.parametrize("kind", ["flip", "crop"])
def test_training_with_flip_or_crop_resumes_exactly(kind: str) -> None:
    task = make_task({"name": "digits"})
    genes = {**SMALL_DIGITS_GENES, "recipe": {**SMALL_DIGITS_GENES["recipe"], "augment": kind, "epochs": 2}}
    design = Design.make("macro", genes)
    straight = task.evaluate(design, 5, EvalSettings(device="cpu"))
    first = task.evaluate(design, 5, EvalSettings(device="cpu"), until=1)
    last = task.evaluate(design, 5, EvalSettings(device="cpu"), checkpoint=first.checkpoint)
    assert last.artifact == straight.artifact and last.metrics["val_accuracy"] == straight.metrics["val_accuracy"]

from __future__ import annotations

from pydantic import Field

from evoforge.tasks._base import TaskOptions
from evoforge.tasks._trained import Splits, TrainedTask, split_fixed


class DigitsOptions(TaskOptions):
    val_fraction: float = Field(0.2, gt=0, lt=0.5)
    test_fraction: float = Field(0.2, gt=0, lt=0.5)


class DigitsTask(TrainedTask):
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes) as 1x8x8 images."""

    name = "digits"
    Options = DigitsOptions

    def __init__(self, options: DigitsOptions | None = None) -> None:
        super().__init__()
        self.options = options or DigitsOptions()

    def load_splits(self) -> Splits:
        from sklearn.datasets import load_digits

        data = load_digits()
        x = data.images.reshape(-1, 1, 8, 8)  # (N, 1, 8, 8), pixel values 0..16
        return split_fixed(x, data.target, self.options.val_fraction, self.options.test_fraction)

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputSpec:
    """What a task feeds the network: per-sample shape (C, H, W) or (F,), class count, input statistics."""

    shape: tuple[int, ...]
    classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    def stats_shape(self) -> list[int]:
        # Per-channel statistics for images, per-feature for flat vectors; broadcast over the batch.
        return [1, len(self.mean), 1, 1] if self.is_image else [1, len(self.mean)]

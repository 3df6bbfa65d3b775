"""What every dataset yields: uint8 images in memory, integer labels, class names."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class DataError(ValueError):
    """A dataset that is missing or malformed; the message names the file and the problem."""


@dataclass
class ImageData:
    """Images are uint8 [N, C, H, W]; labels int64 [N]; test arrays are None when the dataset has no test set."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    class_names: list[str]
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    source: str = ""
    notes: dict[str, int] = field(default_factory=dict)  # e.g. skipped-image counts

    def __post_init__(self) -> None:
        for split, x, y in (("train", self.x_train, self.y_train), ("test", self.x_test, self.y_test)):
            if x is None:
                continue
            if y is None:
                raise DataError(f"{self.name}: {split} has images but no labels")
            if x.dtype != np.uint8 or x.ndim != 4:
                raise DataError(f"{self.name}: {split} images must be uint8 [N, C, H, W], got {x.dtype} {x.shape}")
            if len(x) != len(y):
                raise DataError(f"{self.name}: {split} has {len(x)} images but {len(y)} labels")
            if len(y) and (y.min() < 0 or y.max() >= len(self.class_names)):
                raise DataError(f"{self.name}: {split} labels outside [0, {len(self.class_names)})")

    @property
    def in_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

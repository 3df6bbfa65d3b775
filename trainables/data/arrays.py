"""Your own arrays as a dataset: numpy arrays or torch tensors, validated like every built-in dataset.

Images are N x H x W or N x C x H x W, either uint8 (0-255) or float in [0, 1] (converted to uint8,
as every dataset is stored); labels are integers 0..K-1. Each problem is one DataError naming the
array, what it is and what is allowed, raised before anything is launched or written.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .dataset import DataError, ImageData

KEYS = ("x_train", "y_train", "class_names", "x_test", "y_test")
MIN_PER_CLASS = 2  # one image can go to validation, one stays for training


def to_numpy(a: Any, what: str) -> np.ndarray:
    """A numpy array or a torch tensor (any device) as a numpy array."""
    if isinstance(a, np.ndarray):
        return a
    if type(a).__module__.startswith("torch") and hasattr(a, "detach"):
        return a.detach().cpu().numpy()
    raise DataError(f"{what}: a numpy array or a torch tensor, got {type(a).__name__}")


def as_images(a: Any, what: str) -> np.ndarray:
    """uint8 [N, C, H, W] from N x H x W or N x C x H x W, uint8 or float in [0, 1]."""
    x = to_numpy(a, what)
    if x.ndim == 4 and x.shape[1] > 4 and x.shape[3] in (1, 3, 4):
        raise DataError(f"{what}: shape {x.shape} looks channels-last (N x H x W x C); give N x C x H x W, "
                        "e.g. x.transpose(0, 3, 1, 2)")
    if x.ndim not in (3, 4) or len(x) == 0:
        raise DataError(f"{what}: images N x H x W or N x C x H x W with N >= 1, got shape {x.shape}")
    x = x[:, None] if x.ndim == 3 else x
    if x.dtype == np.uint8:
        return np.ascontiguousarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise DataError(f"{what}: dtype {x.dtype}; images must be uint8 (0-255) or float in [0, 1] "
                        "(e.g. x.astype(np.uint8) for integer pixels in 0-255)")
    lo, hi = float(np.min(x)), float(np.max(x))
    if not (np.isfinite(lo) and np.isfinite(hi) and lo >= 0 and hi <= 1):
        raise DataError(f"{what}: float images must lie in [0, 1], found values in [{lo:g}, {hi:g}] "
                        "(divide by 255, or pass uint8)")
    return np.rint(x * 255).astype(np.uint8)


def as_labels(a: Any, what: str, n: int, images: str) -> np.ndarray:
    """int64 [N] labels, one per image."""
    y = to_numpy(a, what)
    if y.ndim != 1:
        raise DataError(f"{what}: labels must be one integer per image (shape (N,)), got shape {y.shape}")
    if y.dtype == np.bool_ or not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{what}: dtype {y.dtype}; labels must be integers 0..K-1 (e.g. y.astype(int))")
    if len(y) != n:
        raise DataError(f"{images} has {n} images but {what} has {len(y)} labels")
    return y.astype(np.int64)


def _class_names(names: Any, ys: list[tuple[str, np.ndarray]]) -> list[str]:
    """The given names (checked), or '0'..'K-1' from the largest label."""
    for what, y in ys:
        if len(y) and y.min() < 0:
            raise DataError(f"{what}: label {int(y.min())} at index {int(np.argmin(y))}; labels must be >= 0")
    if names is None:
        return [str(k) for k in range(max(int(y.max()) for _, y in ys) + 1)]
    names = [str(n) for n in names]
    if len(set(names)) != len(names):
        raise DataError(f"class_names: {names} has duplicates")
    for what, y in ys:
        if y.max() >= len(names):
            raise DataError(f"{what}: label {int(y.max())} at index {int(np.argmax(y))} is outside [0, {len(names)}) "
                            f"({len(names)} class_names given)")
    return names


def _check_counts(y: np.ndarray, names: list[str]) -> None:
    if len(names) < 2:
        raise DataError(f"y_train: {len(names)} class; a classifier needs at least 2")
    counts = np.bincount(y, minlength=len(names))
    few = [f"{names[k]!r} ({counts[k]})" for k in np.flatnonzero(counts < MIN_PER_CLASS)]
    if few:
        raise DataError(f"y_train: every class needs at least {MIN_PER_CLASS} training images (one goes to "
                        f"validation); too few: {', '.join(few[:10])}" + (" ..." if len(few) > 10 else ""))


def _unpack(data: Any) -> dict[str, Any]:
    if isinstance(data, tuple) and len(data) == 2:
        return {"x_train": data[0], "y_train": data[1]}
    if not isinstance(data, Mapping):
        raise DataError(f"data: (x_train, y_train) or a mapping with keys {list(KEYS)}, got {type(data).__name__}")
    unknown = sorted(set(map(str, data)) - set(KEYS))
    if unknown or "x_train" not in data or "y_train" not in data:
        raise DataError(f"data: keys {sorted(map(str, data))}; needs x_train and y_train, allowed: {list(KEYS)}")
    return dict(data)


def image_data(data: Any, name: str = "arrays", source: str = "arrays given from Python") -> ImageData:
    """Validate `(x, y)` or `{x_train, y_train[, class_names, x_test, y_test]}` into an ImageData.

    Example:
        >>> image_data({"x_train": x, "y_train": y, "class_names": ["cat", "dog"]})  # doctest: +SKIP
    """
    if isinstance(data, ImageData):
        return data
    d = _unpack(data)
    x = as_images(d["x_train"], "x_train")
    y = as_labels(d["y_train"], "y_train", len(x), "x_train")
    if (d.get("x_test") is None) != (d.get("y_test") is None):
        raise DataError("data: x_test and y_test go together; give both or neither")
    x_test = y_test = None
    if d.get("x_test") is not None:
        x_test = as_images(d["x_test"], "x_test")
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(f"x_test: images {x_test.shape[1:]} (C, H, W) differ from x_train's {x.shape[1:]}")
        y_test = as_labels(d["y_test"], "y_test", len(x_test), "x_test")
    names = _class_names(d.get("class_names"), [("y_train", y)] + ([("y_test", y_test)] if y_test is not None else []))
    _check_counts(y, names)
    return ImageData(name, x, y, names, x_test, y_test, source)

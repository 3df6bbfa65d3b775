"""Seeded stratified splits and the arrays a trial trains on."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .dataset import DataError, ImageData


def stratified_split(y: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (keep, held_out) with `fraction` of every class held out (at least one per class of >= 2)."""
    rng = np.random.default_rng(seed)
    keep, held = [], []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        n = int(round(len(idx) * fraction))
        if len(idx) >= 2:
            n = min(max(n, 1), len(idx) - 1)
        held.append(idx[:n])
        keep.append(idx[n:])
    return np.sort(np.concatenate(keep)), np.sort(np.concatenate(held))


def stratified_subset(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices of a class-balanced-in-proportion subset of `size` items."""
    if size >= len(y):
        return np.arange(len(y))
    _, sub = stratified_split(y, size / len(y), seed)
    return sub


@dataclass
class TrialData:
    """What a trial sees: train and validation arrays (never the test set), plus normalisation stats."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    class_names: list[str]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    name: str = ""

    @property
    def in_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def channel_stats(x: np.ndarray, chunk: int = 8192) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std (in [0, 1] units, std at least 1e-3) of uint8 images [N, C, H, W].

    Summed over chunks of images: `np.std` of the whole array made a float64 copy, 8x the dataset
    (9 GB for a 1 GB dataset), on the driver and on every node.
    """
    total = np.zeros(x.shape[1])
    squares = np.zeros(x.shape[1])
    for i in range(0, len(x), chunk):
        part = x[i:i + chunk].astype(np.float64)
        total += part.sum(axis=(0, 2, 3))
        squares += np.square(part).sum(axis=(0, 2, 3))
    n = max(1, len(x) * x.shape[2] * x.shape[3])
    mean = total / n
    std = np.sqrt(np.maximum(squares / n - mean**2, 0.0))
    return tuple(float(m) / 255 for m in mean), tuple(max(float(s) / 255, 1e-3) for s in std)


def make_trial_data(data: ImageData, val_fraction: float, seed: int, train_subset: int | None = None) -> TrialData:
    """Split a validation set off the training data (stratified, seeded); optionally subsample first."""
    x, y = data.x_train, data.y_train
    if train_subset:
        sub = stratified_subset(y, train_subset, seed)
        x, y = x[sub], y[sub]
    tr, va = stratified_split(y, val_fraction, seed)
    if len(tr) == 0 or len(va) == 0:
        raise DataError(f"{data.name}: {len(y)} training images are too few for a validation split of {val_fraction}")
    x_tr = np.ascontiguousarray(x[tr])
    # per-channel statistics of the training part only, so validation never leaks into preprocessing
    mean, std = channel_stats(x_tr)
    return TrialData(x_tr, y[tr], np.ascontiguousarray(x[va]), y[va], list(data.class_names), mean, std, data.name)


def test_split(data: ImageData, fraction: float, seed: int) -> ImageData:
    """Give a dataset without a test set a seeded stratified one, carved from its training data."""
    if data.x_test is not None:
        return data
    keep, held = stratified_split(data.y_train, fraction, seed + 7919)
    return ImageData(data.name, data.x_train[keep], data.y_train[keep], data.class_names,
                     data.x_train[held], data.y_train[held], data.source, dict(data.notes))

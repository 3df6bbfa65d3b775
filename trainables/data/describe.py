"""What `hpsearch data show` prints: sizes per split, classes with counts, where it was found, skips."""
from __future__ import annotations

import numpy as np

from .dataset import ImageData
from .split import make_trial_data, test_split


def split_counts(data: ImageData, val_fraction: float = 0.1, test_fraction: float = 0.2,
                 seed: int = 0) -> dict[str, np.ndarray]:
    """Images per class in the train / validation / test splits a search with these settings would use."""
    full = test_split(data, test_fraction, seed)
    trial = make_trial_data(full, val_fraction, seed)
    k = data.num_classes
    return {"train": np.bincount(trial.y_train, minlength=k), "validation": np.bincount(trial.y_val, minlength=k),
            "test": np.bincount(full.y_test, minlength=k)}  # type: ignore[arg-type]


def describe(data: ImageData, val_fraction: float = 0.1, test_fraction: float = 0.2, seed: int = 0,
             max_classes: int = 20) -> list[str]:
    """Lines describing `data` and the splits hpsearch makes of it (same seeds as a search)."""
    counts = split_counts(data, val_fraction, test_fraction, seed)
    test_from = "held-out test set" if data.x_test is not None else f"carved from train (test_fraction {test_fraction})"
    c, h, w = data.in_shape
    lines = [f"{data.name}: {data.num_classes} classes, images {c}x{h}x{w} (C x H x W), uint8",
             f"found at: {data.source}",
             "splits: " + ", ".join(f"{s} {int(n.sum())}" for s, n in counts.items())
             + f"  (validation {val_fraction} of train, seed {seed}; test: {test_from})"]
    width = max(len(n) for n in data.class_names[:max_classes])
    lines.append(f"  {'class':<{width}}  {'train':>7} {'val':>6} {'test':>6}")
    for i, name in enumerate(data.class_names[:max_classes]):
        lines.append(f"  {name:<{width}}  {counts['train'][i]:>7} {counts['validation'][i]:>6} {counts['test'][i]:>6}")
    if data.num_classes > max_classes:
        lines.append(f"  ... and {data.num_classes - max_classes} more classes")
    lines += [f"{k.replace('_', ' ')}: {v}" for k, v in data.notes.items()]
    return lines

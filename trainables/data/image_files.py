"""Turn a list of labelled image files into an `ImageData`, through the resize-and-cache step."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .dataset import DataError, ImageData
from .image_cache import cached_images, check_channels, check_size


def image_files_data(name: str, root: Path, paths: list[Path], labels: list[int], is_test: list[bool],
                     class_names: list[str], size: object, channels: object, source: str,
                     notes: dict[str, int] | None = None) -> ImageData:
    """Decode (or read from cache) every file; skipped files are dropped with their labels and counted."""
    hw, c = check_size(size), check_channels(channels)
    if not paths:
        raise DataError(f"{source}: no images listed")
    dec = cached_images(name, root, paths, hw, c)
    y = np.asarray(labels, dtype=np.int64)[dec.ok]
    test = np.asarray(is_test, dtype=bool)[dec.ok]
    if len(y) == 0:
        raise DataError(f"{source}: none of the {len(paths)} images could be read "
                        f"({dec.skipped['missing_images']} missing, {dec.skipped['unreadable_images']} unreadable)")
    has_test = bool(test.any())
    x_test = dec.x[test] if has_test else None
    y_test = y[test] if has_test else None
    all_notes = {**(notes or {}), **dec.skipped}
    x_train = dec.x[~test] if has_test else dec.x   # no copy of a large array that is all training data
    return ImageData(name, np.ascontiguousarray(x_train), y[~test], list(class_names),
                     None if x_test is None else np.ascontiguousarray(x_test), y_test,
                     source=f"{source} (cache: {dec.cache_file or 'not writable, kept in memory'})", notes=all_notes)

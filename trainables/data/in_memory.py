"""Arrays given from Python (`search.api.run(..., data=...)`): held in this process, known by a fingerprint.

The experiment folder records only the fingerprint and a summary: the arrays live in no file, so
resuming, evaluating or retraining the search in a later session needs the same arrays again, and
`check_same` refuses different ones.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

from .dataset import DataError, ImageData

ARRAYS = "arrays"  # the dataset name of a search on arrays given from Python
_GIVEN: dict[str, ImageData] = {}  # fingerprint -> arrays, for the life of this process


def fingerprint(data: ImageData) -> str:
    """A hash of the images, labels (train and test) and class names, as validated."""
    h = hashlib.blake2b(digest_size=12)
    h.update(json.dumps(data.class_names).encode())
    for a in (data.x_train, data.y_train, data.x_test, data.y_test):
        if a is not None:
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def summary(data: ImageData) -> str:
    """One line: sizes, image shape, classes."""
    c, h, w = data.in_shape
    test = f", {len(data.y_test)} test" if data.y_test is not None else ""
    return f"{len(data.y_train)} train{test} images {c}x{h}x{w}, {data.num_classes} classes"


def remember(data: ImageData) -> dict[str, str]:
    """Hold `data` for this process; the `dataset.options` that find it again."""
    key = fingerprint(data)
    _GIVEN[key] = data
    return {"fingerprint": key, "summary": summary(data)}


def check_same(data: ImageData, options: dict) -> None:
    """DataError unless `data` are the arrays recorded in `options` (an experiment's dataset.options)."""
    if fingerprint(data) != options.get("fingerprint"):
        raise DataError(f"the arrays given differ from those this search ran on ({options.get('summary', '?')}, "
                        f"fingerprint {options.get('fingerprint')}; given: {summary(data)}, fingerprint "
                        f"{fingerprint(data)}); pass the same arrays, labels, class names and test arrays")
    remember(data)


def load_arrays(data_dir: str | None = None, fingerprint: str = "", summary: str = "") -> ImageData:
    """The arrays remembered under `fingerprint` in this process; a DataError saying how to give them again."""
    if fingerprint in _GIVEN:
        return _GIVEN[fingerprint]
    raise DataError(f"this experiment searched arrays given from Python ({summary or 'unknown size'}, fingerprint "
                    f"{fingerprint or '?'}); they are in no file: pass the same arrays again, e.g. "
                    "hps.resume(path, data=...) or hps.final(path, data=...) with `from search import api as hps`")

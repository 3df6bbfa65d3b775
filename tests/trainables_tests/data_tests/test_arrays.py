"""Your own arrays as a dataset: every malformed input is one DataError naming the array and the problem."""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch

from trainables.data import DataError, image_data
from trainables.data.in_memory import check_same, fingerprint, load_arrays, remember


def _xy(n: int = 12, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((n, 8, 8), np.uint8), np.arange(n) % k


X, Y = _xy()
BAD: dict[str, tuple[Any, str]] = {
    "mismatched lengths": ((X, Y[:-1]), "x_train has 12 images but y_train has 11 labels"),
    "label above the class names": ({"x_train": X, "y_train": np.r_[Y[:-1], 5], "class_names": ["a", "b", "c"]},
                                    "y_train: label 5 at index 11 is outside [0, 3) (3 class_names given)"),
    "negative label": ((X, np.r_[-1, Y[1:]]), "y_train: label -1 at index 0; labels must be >= 0"),
    "test label out of range": ({"x_train": X, "y_train": Y, "class_names": list("abc"), "x_test": X[:2],
                                 "y_test": np.array([0, 3])}, "y_test: label 3 at index 1 is outside [0, 3)"),
    "int64 images": ((X.astype(np.int64), Y), "x_train: dtype int64; images must be uint8 (0-255) or float in [0, 1]"),
    "float images in 0-255": ((X.astype(np.float32) + 255, Y), r"float images must lie in [0, 1], found values in [255, 255]"),
    "float labels": ((X, Y.astype(np.float32)), "y_train: dtype float32; labels must be integers 0..K-1"),
    "flat images": ((X.reshape(12, -1), Y), "x_train: images N x H x W or N x C x H x W with N >= 1, got shape (12, 64)"),
    "rank 5": ((X[:, None, None], Y), "got shape (12, 1, 1, 8, 8)"),
    "channels last": ((np.zeros((12, 8, 8, 3), np.uint8), Y), "looks channels-last (N x H x W x C)"),
    "one-hot labels": ((X, np.eye(3, dtype=np.int64)[Y]), r"one integer per image (shape (N,)), got shape (12, 3)"),
    "one image in a class": ((X, np.r_[np.zeros(11, int), 1]), "every class needs at least 2 training images"),
    "one class": ((X, np.zeros(12, int)), "y_train: 1 class; a classifier needs at least 2"),
    "test shape": ({"x_train": X, "y_train": Y, "x_test": np.zeros((2, 9, 9), np.uint8), "y_test": Y[:2]},
                   "x_test: images (1, 9, 9) (C, H, W) differ from x_train's (1, 8, 8)"),
    "test without labels": ({"x_train": X, "y_train": Y, "x_test": X}, "x_test and y_test go together"),
    "a list": ((X.tolist(), Y), "x_train: a numpy array or a torch tensor, got list"),
    "unknown key": ({"x_train": X, "y_train": Y, "labels": Y}, "allowed: ['x_train', 'y_train', 'class_names'"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_arrays_raise_one_clear_error(case: str) -> None:
    data, message = BAD[case]
    with pytest.raises(DataError, match=re.escape(message)):
        image_data(data)


def test_torch_and_numpy_arrays_become_uint8_nchw_with_default_class_names() -> None:
    x = torch.rand(12, 8, 8)
    data = image_data({"x_train": x, "y_train": torch.from_numpy(Y), "x_test": x[:3].numpy(), "y_test": Y[:3]})
    assert data.x_train.dtype == np.uint8 and data.x_train.shape == (12, 1, 8, 8)
    np.testing.assert_array_equal(data.x_train[:, 0], np.rint(x.numpy() * 255))
    assert data.class_names == ["0", "1", "2"] and data.y_train.dtype == np.int64 and data.x_test.shape == (3, 1, 8, 8)


def test_the_same_arrays_are_found_again_and_different_ones_refused() -> None:
    data = image_data((X, Y))
    options = remember(data)
    assert load_arrays(**options) is data
    check_same(image_data((X.copy(), Y.copy())), options)  # equal content, new objects: the same data
    other = image_data((X, np.roll(Y, 1)))
    assert fingerprint(other) != options["fingerprint"]
    with pytest.raises(DataError, match="differ from those this search ran on .*12 train images 1x8x8, 3 classes"):
        check_same(other, options)
    with pytest.raises(DataError, match="searched arrays given from Python .* pass the same arrays again"):
        load_arrays(fingerprint="0" * 24, summary="12 train images")

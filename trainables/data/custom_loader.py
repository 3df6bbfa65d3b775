"""`dataset: {name: custom, options: {loader: "module:function"}}`: your own function returns the arrays."""
from __future__ import annotations

import inspect
from typing import Any

from ..user_code import resolve_callable
from .arrays import image_data
from .dataset import DataError, ImageData


def load_custom(data_dir: str | None = None, loader: str = "", kwargs: dict | None = None) -> ImageData:
    """Call the user's `loader` (with `kwargs`, and `data_dir` if it takes one); validate what it returns."""
    if not loader:
        raise DataError("dataset custom: needs dataset.options.loader, 'package.module:function' or "
                        "'path/to/file.py:function', a function returning {x_train, y_train[, class_names, x_test, "
                        "y_test]} or (x_train, y_train)")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise DataError(f"dataset.options.kwargs = {kwargs!r}: a mapping of keyword arguments for {loader}")
    try:
        fn = resolve_callable(loader, f"dataset.options.loader = {loader!r}")
    except ValueError as e:
        raise DataError(str(e)) from None
    args: dict[str, Any] = dict(kwargs or {})
    if data_dir is not None and "data_dir" in inspect.signature(fn).parameters:
        args["data_dir"] = data_dir
    try:
        result = fn(**args)
    except Exception as e:  # noqa: BLE001 - the user's code: name it, keep its message
        raise DataError(f"dataset loader {loader} raised {type(e).__name__}: {e}") from e
    try:
        return image_data(result, name=loader.rpartition(":")[2], source=f"loader {loader}")
    except DataError as e:
        raise DataError(f"dataset loader {loader} returned bad data: {e}") from None

"""Datasets by name. A loader is `load(data_dir, **options) -> ImageData`."""
from __future__ import annotations

from typing import Any, Callable

from ..registry import Registry
from .dataset import DataError, ImageData
from .split import TrialData, make_trial_data, stratified_split, test_split

DatasetLoader = Callable[..., ImageData]
DATASETS: Registry[DatasetLoader] = Registry("dataset")


def _mnist_loader(name: str) -> DatasetLoader:
    def load(data_dir: str | None = None, download: bool = True) -> ImageData:
        from .mnist import load_mnist_like

        return load_mnist_like(name, data_dir, download)

    return load


DATASETS.register("fashion_mnist", _mnist_loader("fashion_mnist"))
DATASETS.register("mnist", _mnist_loader("mnist"))


def load_dataset(name: str, data_dir: str | None = None, options: dict[str, Any] | None = None) -> ImageData:
    """Load a registered dataset, e.g. `load_dataset("fashion_mnist")`."""
    try:
        loader = DATASETS.get(name)
    except KeyError as e:
        raise DataError(str(e.args[0])) from None
    try:
        return loader(data_dir=data_dir, **(options or {}))
    except TypeError as e:
        raise DataError(f"dataset {name!r}: bad options {options}: {e}") from None


__all__ = ["DATASETS", "DataError", "ImageData", "TrialData", "load_dataset", "make_trial_data",
           "stratified_split", "test_split"]

"""Datasets by name. A loader is `load(data_dir, **options) -> ImageData`."""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ..registry import Registry
from .arrays import image_data
from .csv_manifest import load_csv_manifest
from .custom_loader import load_custom
from .dataset import DataError, ImageData
from .galaxy_zoo import load_galaxy_zoo
from .image_folder import load_image_folder
from .in_memory import ARRAYS, check_same, load_arrays, remember
from .split import TrialData, make_trial_data, stratified_split, test_split

DatasetLoader = Callable[..., ImageData]
DATASETS: Registry[DatasetLoader] = Registry("dataset")


def _mnist_loader(name: str) -> DatasetLoader:
    def load(data_dir: str | None = None, download: bool = True) -> ImageData:
        from .mnist import load_mnist_like

        return load_mnist_like(name, data_dir, download)

    title = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST"}[name]
    load.__doc__ = f"{title}: 28x28 grayscale, 10 classes, 60k train / 10k test (IDX files)"
    return load


def _cifar_loader(name: str, grayscale_default: bool, doc: str) -> DatasetLoader:
    def load(data_dir: str | None = None, grayscale: bool = grayscale_default, download: bool = True) -> ImageData:
        from .cifar import load_cifar

        return load_cifar(name, data_dir, grayscale, download)

    load.__doc__ = doc
    return load


def _described(target: DatasetLoader, doc: str) -> DatasetLoader:
    """`target` under a one-line description for `hpsearch data list` (its own docstring stays for developers)."""

    def load(data_dir: str | None = None, **options: Any) -> ImageData:
        return target(data_dir=data_dir, **options)

    load.__doc__, load.__signature__ = doc, inspect.signature(target)  # type: ignore[attr-defined]
    return load


DATASETS.register("fashion_mnist", _mnist_loader("fashion_mnist"))
DATASETS.register("mnist", _mnist_loader("mnist"))
DATASETS.register("cifar10", _cifar_loader(
    "cifar10", False, "CIFAR-10: 32x32 colour, 10 classes, 50k train / 10k test (python batches)"))
DATASETS.register("cifar10_gray", _cifar_loader(
    "cifar10", True, "CIFAR-10 in grayscale (luminance, 1 channel), 50k train / 10k test"))
DATASETS.register("cifar100", _cifar_loader(
    "cifar100", False, "CIFAR-100: 32x32 colour, 100 fine classes, 50k train / 10k test"))
DATASETS.register("galaxy_zoo", _described(
    load_galaxy_zoo, "Galaxy Zoo 2 spiral vs elliptical: classification CSV + filename mapping CSV + images folder"))
DATASETS.register("image_folder", _described(
    load_image_folder, "your images, one subfolder per class (optional train/ and test/)"))
DATASETS.register("csv_manifest", _described(
    load_csv_manifest, "your images listed in a CSV: path,label[,split]"))
DATASETS.register("custom", _described(
    load_custom, "your function returning arrays: options loader ('module:function' or 'file.py:function'), kwargs"))
DATASETS.register(ARRAYS, _described(
    load_arrays, "arrays given from Python: search.api.run(config, data=...); not loadable from a file"))


def describe_dataset(name: str) -> str:
    """One line saying what a registered dataset is."""
    return (DATASETS.get(name).__doc__ or "").strip().splitlines()[0] if name in DATASETS else ""


def dataset_options(name: str) -> dict[str, Any]:
    """The options a dataset accepts (`dataset.options`), with their defaults."""
    sig = inspect.signature(DATASETS.get(name))
    return {k: p.default for k, p in sig.parameters.items()
            if k != "data_dir" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def check_options(name: str, options: dict[str, Any]) -> None:
    """Unknown options, and flags or names of the wrong type, are DataErrors naming option, value and what is allowed."""
    allowed = dataset_options(name)
    for key, value in options.items():
        if key not in allowed:
            listed = ", ".join(f"{k} (default {v!r})" for k, v in allowed.items()) or "none"
            raise DataError(f"dataset.options.{key} = {value!r}: unknown option for dataset {name!r}; allowed: {listed}")
        default = allowed[key]
        if isinstance(default, (bool, str)) and type(value) is not type(default):
            kind = "true or false" if isinstance(default, bool) else "a string"
            raise DataError(f"dataset.options.{key} = {value!r}: {kind} (default {default!r})")


def load_dataset(name: str, data_dir: str | None = None, options: dict[str, Any] | None = None) -> ImageData:
    """Load a registered dataset, e.g. `load_dataset("cifar10", "~/data", {"grayscale": True})`."""
    try:
        loader = DATASETS.get(name)
    except KeyError as e:
        raise DataError(str(e.args[0])) from None
    options = dict(options or {})
    check_options(name, options)
    return loader(data_dir=data_dir, **options)


__all__ = ["ARRAYS", "DATASETS", "DataError", "ImageData", "TrialData", "check_options", "check_same",
           "dataset_options", "describe_dataset", "image_data", "load_dataset", "make_trial_data", "remember",
           "stratified_split", "test_split"]

"""Fashion-MNIST and MNIST from IDX files, found in a fixed lookup order.

A `data_dir` the user named is the only place looked in (it must hold the files). Without one:
`$HPSEARCH_DATA_DIR`, the folder Debian's package installs (`dataset-fashion-mnist`), hpsearch's
download cache, then torchvision's download into that cache.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .dataset import DataError, ImageData
from .idx import read_idx

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
DIGIT_CLASSES = [str(i) for i in range(10)]
_FILES = {
    "x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte",
}
_VARIANTS = {
    # name: (torchvision class, torchvision folder, Debian folder, Debian package, class names)
    "fashion_mnist": ("FashionMNIST", "FashionMNIST", "/usr/share/datasets/fashion-mnist",
                      "dataset-fashion-mnist", FASHION_CLASSES),
    "mnist": ("MNIST", "MNIST", "/usr/share/datasets/mnist", "dataset-mnist", DIGIT_CLASSES),
}
ENV_VAR = "HPSEARCH_DATA_DIR"


def cache_dir() -> Path:
    return Path(os.environ.get("HPSEARCH_CACHE", Path.home() / ".cache" / "hpsearch"))


DATA_DIR_LABEL = "data_dir (config or --data-dir)"


def candidate_dirs(name: str, data_dir: str | None) -> list[tuple[str, Path]]:
    """Every (label, folder) searched, in order; each folder is tried as-is and with the torchvision layout.

    A named `data_dir` is the only place: falling back elsewhere would silently train on other data.
    """
    tv_folder, debian = _VARIANTS[name][1], _VARIANTS[name][2]
    out: list[tuple[str, Path]] = []
    if data_dir:
        out.append((DATA_DIR_LABEL, Path(data_dir).expanduser()))
    elif os.environ.get(ENV_VAR):
        out.append((f"${ENV_VAR}", Path(os.environ[ENV_VAR]).expanduser()))
    if not data_dir:
        out.append((f"Debian package {_VARIANTS[name][3]}", Path(debian)))
        out.append(("hpsearch download cache", cache_dir() / name))
    return [(label, d) for label, base in out for d in (base, base / name, base / tv_folder / "raw")]


def find_idx_files(folder: Path) -> dict[str, Path] | None:
    """The four IDX files in `folder` (gzipped or not), or None if any is missing."""
    found = {}
    for key, stem in _FILES.items():
        for candidate in (folder / f"{stem}.gz", folder / stem):
            if candidate.is_file():
                found[key] = candidate
                break
        else:
            return None
    return found


def load_mnist_like(name: str, data_dir: str | None = None, download: bool = True) -> ImageData:
    """Load `fashion_mnist` or `mnist` from the first place that has all four IDX files."""
    tried = []
    for label, folder in candidate_dirs(name, data_dir):
        files = find_idx_files(folder)
        tried.append(f"  - {label}: {folder}")
        if files:
            return _from_files(name, files, f"{label}: {folder}")
    if data_dir:
        places = ", ".join(str(folder) for _, folder in candidate_dirs(name, data_dir))
        raise DataError(f"dataset.data_dir = {data_dir!r}: does not hold {name} (the four IDX files "
                        f"{', '.join(f + '[.gz]' for f in _FILES.values())}) in {places}")
    if download:
        target = cache_dir() / name
        try:
            import torchvision.datasets as tvd

            getattr(tvd, _VARIANTS[name][0])(root=str(target), train=True, download=True)
            getattr(tvd, _VARIANTS[name][0])(root=str(target), train=False, download=True)
            files = find_idx_files(target / _VARIANTS[name][1] / "raw")
            if files:
                return _from_files(name, files, f"torchvision download: {target}")
            tried.append(f"  - torchvision download into {target}: finished but IDX files not found")
        except Exception as e:  # noqa: BLE001 - any network/IO failure means "not here"
            tried.append(f"  - torchvision download into {target}: failed ({type(e).__name__}: {str(e)[:120]})")
    else:
        tried.append("  - torchvision download: disabled (download: false)")
    raise DataError(
        f"{name}: IDX files ({', '.join(f + '[.gz]' for f in _FILES.values())}) not found. Looked in:\n"
        + "\n".join(tried)
        + f"\nTo get them: set dataset.data_dir (or --data-dir, or ${ENV_VAR}) to a folder holding the four files; "
        f"on Debian/Ubuntu `sudo apt-get install {_VARIANTS[name][3]}`; or run once with network access "
        "so torchvision can download them."
    )


def _from_files(name: str, files: dict[str, Path], source: str) -> ImageData:
    arrays = {k: read_idx(p) for k, p in files.items()}
    for split in ("train", "test"):
        x = arrays[f"x_{split}"]
        if x.ndim != 3:
            raise DataError(f"{files[f'x_{split}']}: expected images [N, H, W], got shape {x.shape}")
    return ImageData(
        name=name,
        x_train=np.ascontiguousarray(arrays["x_train"][:, None]),
        y_train=arrays["y_train"].astype(np.int64),
        x_test=np.ascontiguousarray(arrays["x_test"][:, None]),
        y_test=arrays["y_test"].astype(np.int64),
        class_names=list(_VARIANTS[name][4]),
        source=source,
    )

"""A user's own images, one subfolder per class: `root/<class>/*.png`.

If `root` holds `train/` and `test/` subfolders (each with one folder per class), the test
folder is the held-out test set; otherwise hpsearch carves a seeded stratified one.
"""
from __future__ import annotations

from pathlib import Path

from .dataset import DataError, ImageData
from .image_files import image_files_data

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def require_dir(data_dir: str | None, dataset: str, what: str) -> Path:
    """The configured data folder, or a DataError saying how to give one."""
    if not data_dir:
        raise DataError(f"dataset {dataset}: needs dataset.data_dir (or --data-dir): {what}")
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise DataError(f"{root}: not a folder (dataset {dataset} needs {what})")
    return root


def _class_dirs(folder: Path) -> list[Path]:
    return sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


def load_image_folder(data_dir: str | None = None, size: object = 32, channels: object = 3) -> ImageData:
    """Images in one subfolder per class (class names are the folder names, sorted)."""
    root = require_dir(data_dir, "image_folder", "a folder with one subfolder of images per class")
    split_dirs = {"train": root / "train", "test": root / "test"}
    has_split = all(d.is_dir() for d in split_dirs.values())
    parts = split_dirs if has_split else {"train": root}
    class_names = [d.name for d in _class_dirs(parts["train"])]
    if not class_names:
        raise DataError(f"{parts['train']}: empty: expected one subfolder of images per class")
    paths, labels, is_test = [], [], []
    for split, folder in parts.items():
        for d in _class_dirs(folder):
            if d.name not in class_names:
                raise DataError(f"{d}: class {d.name!r} is not among the training classes {class_names}")
            files = _images(d)
            paths += files
            labels += [class_names.index(d.name)] * len(files)
            is_test += [split == "test"] * len(files)
    empty = [n for i, n in enumerate(class_names) if i not in set(labels)]
    if empty:
        raise DataError(f"{parts['train']}: class folder(s) {empty} hold no images "
                        f"(looked for {', '.join(IMAGE_EXTENSIONS)})")
    return image_files_data("image_folder", root, paths, labels, is_test, class_names, size, channels, str(root))

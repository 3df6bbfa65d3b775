"""Decode image files once, resize them, and keep the result as one compact uint8 array file.

Decoding hundreds of thousands of JPEGs per trial is not acceptable, so every image-file
dataset (Galaxy Zoo, image folder, CSV manifest) goes through `cached_images`. The cache file
sits next to the data (`<root>/.hpsearch-cache/`), or in hpsearch's cache folder when the data
folder is read-only, and its name carries a fingerprint of every source file (path, size,
mtime) and of the resize options: change a file or an option and it is rebuilt.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .dataset import DataError

CACHE_FOLDER = ".hpsearch-cache"
FORMAT_VERSION = 1  # bump when the decoding below changes, so old caches are not reused


@dataclass
class DecodedImages:
    """Images that decoded (uint8 [n, C, H, W]), which inputs they came from, and what was skipped."""

    x: np.ndarray
    ok: np.ndarray                         # bool per input path: True when its image is in x
    skipped: dict[str, int] = field(default_factory=dict)   # {"missing_images": 1, "unreadable_images": 2}
    cache_file: Path | None = None
    from_cache: bool = False


def check_size(size: object, option: str = "size") -> tuple[int, int]:
    """An int (square) or [height, width], each in 4..1024, as (H, W); anything else is a DataError."""
    hw = [size, size] if isinstance(size, int) and not isinstance(size, bool) else size
    if (not isinstance(hw, (list, tuple)) or len(hw) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and 4 <= v <= 1024 for v in hw)):
        raise DataError(f"dataset option {option} = {size!r}: an int or [height, width], each in 4..1024")
    return int(hw[0]), int(hw[1])


def check_channels(channels: object) -> int:
    if channels not in (1, 3) or isinstance(channels, bool):
        raise DataError(f"dataset option channels = {channels!r}: 1 (grayscale) or 3 (RGB)")
    return int(channels)


def fingerprint(paths: list[Path], size: tuple[int, int], channels: int) -> str:
    """Hash of every source (path, size, mtime; 'missing' for absent ones) and the resize options."""
    h = hashlib.sha256(f"v{FORMAT_VERSION} {size} {channels}\n".encode())
    for p in paths:
        try:
            st = p.stat()
            h.update(f"{p}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{p}\tmissing\n".encode())
    return h.hexdigest()[:20]


def _cache_folders(root: Path) -> list[Path]:
    from .mnist import cache_dir

    return [root / CACHE_FOLDER, cache_dir() / "images"]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def decode_image(path: Path, size: tuple[int, int], channels: int) -> np.ndarray:
    """One image file as uint8 [C, H, W], resized (bilinear) to `size`. Raises OSError/ValueError if unreadable."""
    from PIL import Image

    with Image.open(path) as src:
        im = src.convert("L" if channels == 1 else "RGB")   # convert() forces the full decode
        im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        arr = np.asarray(im, dtype=np.uint8)
    return arr[None] if channels == 1 else arr.transpose(2, 0, 1)


def cached_images(name: str, root: Path, paths: list[Path], size: tuple[int, int], channels: int) -> DecodedImages:
    """Decoded images for `paths` (in order), read from the cache when its fingerprint matches."""
    key = fingerprint(paths, size, channels)
    # the root's hash keeps datasets of the same kind apart in the shared fallback folder
    where = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:8]
    stem = f"{name}-{where}-{size[0]}x{size[1]}x{channels}"
    for folder in _cache_folders(root):
        f = folder / f"{stem}-{key}.npz"
        if f.is_file():
            try:
                with np.load(f) as z:
                    ok = z["ok"]
                    skipped = {"missing_images": int(z["missing"]), "unreadable_images": int(z["unreadable"])}
                    return DecodedImages(z["x"], ok, skipped, f, True)
            except (OSError, KeyError, ValueError):
                pass  # a damaged cache is rebuilt below, never trusted
    decoded = _decode_all(paths, size, channels)
    decoded.cache_file = _write_cache(root, stem, key, decoded)
    return decoded


def _decode_all(paths: list[Path], size: tuple[int, int], channels: int) -> DecodedImages:
    from PIL import Image

    out = np.empty((len(paths), channels, size[0], size[1]), dtype=np.uint8)
    ok = np.zeros(len(paths), dtype=bool)
    kept = missing = unreadable = 0
    for i, p in enumerate(paths):
        if not p.is_file():
            missing += 1
            continue
        try:
            out[kept] = decode_image(p, size, channels)   # packed in order, so no second copy is needed
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            unreadable += 1   # corrupt or truncated file: skipped and counted, never fatal
            continue
        ok[i] = True
        kept += 1
    return DecodedImages(out[:kept], ok, {"missing_images": missing, "unreadable_images": unreadable})


def _write_cache(root: Path, stem: str, key: str, d: DecodedImages) -> Path | None:
    for folder in _cache_folders(root):
        if not _writable(folder):
            continue
        target = folder / f"{stem}-{key}.npz"
        tmp = folder / f".{stem}-{key}.{os.getpid()}.tmp.npz"
        try:
            np.savez(tmp, x=d.x, ok=d.ok, missing=d.skipped["missing_images"],
                     unreadable=d.skipped["unreadable_images"])
            os.replace(tmp, target)   # atomic, so parallel loaders never read a half-written cache
        except OSError:
            tmp.unlink(missing_ok=True)
            continue
        for old in folder.glob(f"{stem}-*.npz"):   # stale versions of this same dataset
            if old != target:
                old.unlink(missing_ok=True)
        return target
    return None

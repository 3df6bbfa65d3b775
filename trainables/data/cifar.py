"""CIFAR-10 and CIFAR-100 from the official python batches, colour or grayscale.

Each place is tried as the `cifar-*-python.tar.gz` archive (read without extracting), the
extracted `cifar-*-batches-py` / `cifar-100-python` folder, or a folder holding either. A
configured `data_dir` is the only place looked in; without one: `$HPSEARCH_DATA_DIR`, hpsearch's
download cache, then torchvision's download into that cache.
"""
from __future__ import annotations

import io
import os
import pickle
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .dataset import DataError, ImageData
from .mnist import ENV_VAR, cache_dir


@dataclass(frozen=True)
class Variant:
    folder: str                 # the folder inside the archive
    archive: str
    train: tuple[str, ...]      # batch files
    test: str
    meta: str
    names_key: bytes            # class names in the meta file
    labels_key: bytes
    torchvision: str


VARIANTS = {
    "cifar10": Variant("cifar-10-batches-py", "cifar-10-python.tar.gz",
                       tuple(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta",
                       b"label_names", b"labels", "CIFAR10"),
    "cifar100": Variant("cifar-100-python", "cifar-100-python.tar.gz", ("train",), "test", "meta",
                        b"fine_label_names", b"fine_labels", "CIFAR100"),
}
LUMA = np.array([0.299, 0.587, 0.114])   # ITU-R BT.601, what PIL's convert("L") uses


class _NumpyOnly(pickle.Unpickler):
    """The batches are pickles; only numpy's array reconstruction may run while reading them."""

    def find_class(self, module: str, name: str) -> Any:
        if module.split(".")[0] == "numpy" and name in {"_reconstruct", "ndarray", "dtype", "scalar", "_frombuffer"}:
            return super().find_class(module, name)
        if (module, name) == ("_codecs", "encode"):   # how protocol-2 pickles written by Python 3 store bytes
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _unpickle(raw: bytes, where: str) -> dict:
    try:
        obj = _NumpyOnly(io.BytesIO(raw), encoding="bytes").load()
    except Exception as e:  # noqa: BLE001 - truncated/garbled pickles raise many types
        raise DataError(f"{where}: not a readable CIFAR python batch ({type(e).__name__}: {e})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{where}: not a CIFAR python batch (a {type(obj).__name__}, expected a dict)")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in obj.items()}


def _read_archive(a: Path) -> dict[str, bytes]:
    """Every file of a tar(.gz) by base name; one pass, then the archive is closed."""
    try:
        with tarfile.open(a) as tar:
            return {Path(m.name).name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    except (OSError, tarfile.TarError, EOFError) as e:
        raise DataError(f"{a}: cannot read the archive: {e}") from None


def _reader(place: Path, v: Variant) -> tuple[Callable[[str], tuple[bytes, str]], str] | None:
    """A function reading one member by name, and a label for where it is; None if `place` has no batches."""
    # the extracted folder first: reading it skips un-gzipping 170 MB on every load
    for folder in (place / v.folder, place):
        if place.is_dir() and (folder / v.meta).is_file():
            def from_dir(name: str, folder=folder) -> tuple[bytes, str]:
                p = folder / name
                if not p.is_file():
                    raise DataError(f"{p}: batch file not found")
                return p.read_bytes(), str(p)

            return from_dir, str(folder)
    archives = [place] if place.is_file() else [place / v.archive]
    for a in archives:
        if a.is_file() and a.name.endswith((".tar.gz", ".tgz", ".tar")):
            files = _read_archive(a)

            def from_tar(name: str, files=files, a=a) -> tuple[bytes, str]:
                if name not in files:
                    raise DataError(f"{a}: archive has no {v.folder}/{name}")
                return files[name], f"{a}:{v.folder}/{name}"

            return from_tar, str(a)
    return None


def _batch(read: Callable[[str], tuple[bytes, str]], name: str, v: Variant) -> tuple[np.ndarray, np.ndarray]:
    raw, where = read(name)
    d = _unpickle(raw, where)
    data, labels = d.get("data"), d.get(v.labels_key.decode())
    if not isinstance(data, np.ndarray) or labels is None:
        raise DataError(f"{where}: batch lacks 'data' or '{v.labels_key.decode()}' ({sorted(map(str, d))})")
    labels = np.asarray(labels, dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(labels):
        raise DataError(f"{where}: data is {data.dtype} {data.shape} with {len(labels)} labels; "
                        "expected uint8 [N, 3072] with N labels")
    return data.reshape(-1, 3, 32, 32), labels


def _places(data_dir: str | None, name: str) -> list[tuple[str, Path]]:
    if data_dir:  # a named folder is the only place: falling back elsewhere would silently use other data
        return [("data_dir (config or --data-dir)", Path(data_dir).expanduser())]
    out = []
    if os.environ.get(ENV_VAR):
        out.append((f"${ENV_VAR}", Path(os.environ[ENV_VAR]).expanduser()))
    out.append(("hpsearch download cache", cache_dir() / name))
    return out


def to_grayscale(x: np.ndarray) -> np.ndarray:
    """uint8 [N, 3, H, W] -> uint8 [N, 1, H, W] by luminance."""
    y = np.tensordot(x.astype(np.float32), LUMA.astype(np.float32), axes=([1], [0]))
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)[:, None]


def load_cifar(name: str, data_dir: str | None = None, grayscale: bool = False, download: bool = True) -> ImageData:
    """CIFAR-10 (`name="cifar10"`) or CIFAR-100 (fine labels), optionally converted to 1-channel luminance."""
    for opt, val in (("grayscale", grayscale), ("download", download)):
        if not isinstance(val, bool):
            raise DataError(f"dataset option {opt} = {val!r}: true or false")
    v = VARIANTS[name]
    tried = []
    for label, place in _places(data_dir, name):
        found = _reader(place, v)
        tried.append(f"  - {label}: {place}")
        if found:
            return _load(name, v, *found, grayscale, f"{label}: {found[1]}")
    if data_dir:
        raise DataError(f"dataset.data_dir = {data_dir!r}: does not hold {name} ({v.archive} or {v.folder}/ "
                        "with its python batches)")
    if download:
        target = cache_dir() / name
        try:
            import torchvision.datasets as tvd

            getattr(tvd, v.torchvision)(root=str(target), train=True, download=True)
            found = _reader(target, v)
            if found:
                return _load(name, v, *found, grayscale, f"torchvision download: {found[1]}")
        except DataError:
            raise
        except Exception as e:  # noqa: BLE001 - any network/IO failure means "not here"
            tried.append(f"  - torchvision download into {target}: failed ({type(e).__name__}: {str(e)[:120]})")
    else:
        tried.append("  - torchvision download: disabled (download: false)")
    raise DataError(f"{name}: python batches ({v.archive} or {v.folder}/) not found. Looked in:\n" + "\n".join(tried)
                    + f"\nSet dataset.data_dir (or --data-dir, or ${ENV_VAR}) to the archive or the extracted folder, "
                    "or run once with network access so torchvision can download it.")


def _load(name: str, v: Variant, read: Callable, where: str, grayscale: bool, source: str) -> ImageData:
    raw, meta_where = read(v.meta)
    meta = _unpickle(raw, meta_where)
    names_key = v.names_key.decode()
    if names_key not in meta:
        raise DataError(f"{meta_where}: meta file lacks {names_key!r}")
    class_names = [n.decode() if isinstance(n, bytes) else str(n) for n in meta[names_key]]
    parts = [_batch(read, b, v) for b in v.train]
    x_train, y_train = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    x_test, y_test = _batch(read, v.test, v)
    if grayscale:
        x_train, x_test = to_grayscale(x_train), to_grayscale(x_test)
    return ImageData(name + ("_gray" if grayscale else ""), np.ascontiguousarray(x_train), y_train, class_names,
                     np.ascontiguousarray(x_test), y_test, source=source)

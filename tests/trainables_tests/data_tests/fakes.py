"""Small datasets written in each real on-disk format, with learnable images (see conftest.synthetic_images)."""
from __future__ import annotations

import csv
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

from tests.conftest import synthetic_images

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def write_cifar10(root: Path, per_batch: int = 40, n_test: int = 50, archive: bool = False, seed: int = 0) -> Path:
    """`root/cifar-10-batches-py/` (five data batches, test batch, meta) as pickles like the official ones;
    with `archive=True` also `root/cifar-10-python.tar.gz` holding that folder, and the folder removed."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    _pickle(folder / "batches.meta", {b"label_names": [n.encode() for n in CIFAR10_NAMES], b"num_vis": 3072})
    for i in range(1, 6):
        x, y = synthetic_images(per_batch, 10, (3, 32, 32), seed=seed + i)
        _pickle(folder / f"data_batch_{i}", {b"batch_label": f"training batch {i} of 5".encode(),
                                             b"labels": y.tolist(), b"data": x.reshape(len(x), -1)})
    x, y = synthetic_images(n_test, 10, (3, 32, 32), seed=seed + 99)
    _pickle(folder / "test_batch", {b"batch_label": b"testing batch 1 of 1", b"labels": y.tolist(),
                                    b"data": x.reshape(len(x), -1)})
    if not archive:
        return folder
    tar_path = root / "cifar-10-python.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    for f in folder.iterdir():
        f.unlink()
    folder.rmdir()
    return tar_path


class _Py2Pickler(pickle._Pickler):  # type: ignore[name-defined]
    """Writes bytes as Python 2 `str` opcodes, as in the official batches (pickled by Python 2, protocol 2)."""

    def save_bytes(self, obj: bytes) -> None:
        n = len(obj)
        self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj if n < 256 else pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch = dict(pickle._Pickler.dispatch)  # type: ignore[attr-defined]
    dispatch[bytes] = save_bytes


def _pickle(path: Path, obj: dict) -> None:
    with open(path, "wb") as f:
        _Py2Pickler(f, protocol=2).dump(obj)


def save_image(path: Path, chw: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = chw[0] if chw.shape[0] == 1 else chw.transpose(1, 2, 0)
    Image.fromarray(img).save(path)


def write_image_folder(root: Path, per_class: int = 30, classes: tuple[str, ...] = ("cat", "dog", "owl"),
                       size: int = 24, seed: int = 0) -> Path:
    """`root/<class>/<i>.png` with class-specific bands."""
    x, y = synthetic_images(per_class * len(classes), len(classes), (3, size, size), seed=seed)
    for i, (img, label) in enumerate(zip(x, y)):
        save_image(root / classes[label] / f"{i:04d}.png", img)
    return root


def write_manifest(root: Path, n: int = 90, classes: tuple[str, ...] = ("healthy", "sick"), split: bool = False,
                   seed: int = 0) -> Path:
    """`root/manifest.csv` (path,label[,split]) listing JPEGs under root/img/."""
    x, y = synthetic_images(n, len(classes), (3, 20, 20), seed=seed)
    rows = []
    for i, (img, label) in enumerate(zip(x, y)):
        rel = f"img/{i:04d}.jpg"
        save_image(root / rel, img)
        rows.append({"path": rel, "label": classes[label], **({"split": "test" if i % 5 == 0 else "train"}
                                                               if split else {})})
    path = root / "manifest.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


GZ2_OTHER = ("A", "SB?", "Er")   # A (star/artefact) dropped; SB (barred spiral) kept as spiral; Er elliptical


def write_galaxy_zoo(root: Path, n: int = 60, spiral_fraction: float = 0.6, n_other: int = 5, seed: int = 0) -> dict:
    """gz2_hart16.csv + gz2_filename_mapping.csv + images/<asset_id>.jpg|png, like the GZ2 release.

    Spirals and ellipticals (60/40), `n_other` rows of class "A" (dropped), one row with no mapping,
    one corrupt JPEG and one image missing. Returns the counts the loader must report.
    """
    rng = np.random.default_rng(seed)
    n_spiral = int(round(n * spiral_fraction))
    labels = np.array([1] * n_spiral + [0] * (n - n_spiral))
    rng.shuffle(labels)
    x, _ = synthetic_images(n, 2, (3, 24, 24), seed=seed)
    for i, lab in enumerate(labels):   # redraw the band by the real label (synthetic_images picks its own)
        x[i, :, :, :] = rng.integers(0, 60, size=(3, 24, 24), dtype=np.uint8)
        x[i, :, :12, :] = 220 if lab == 0 else x[i, :, :12, :]
        x[i, :, 12:, :] = 220 if lab == 1 else x[i, :, 12:, :]
    classes, mapping = [], []
    for i, lab in enumerate(labels):
        objid, asset = str(587722981736120000 + i), str(1000 + i)
        gz2 = ("Sc+t", "Sb", "SBc?", "Ser")[i % 4] if lab == 1 else ("Ei", "Er", "Ec")[i % 3]
        classes.append({"dr7objid": objid, "ra": "1.0", "dec": "2.0", "gz2_class": gz2, "total_classifications": "40"})
        mapping.append({"objid": objid, "sample": "original", "asset_id": asset})
        save_image(root / "images" / f"{asset}{'.png' if i % 2 else '.jpg'}", x[i])
    for j in range(n_other):
        classes.append({"dr7objid": str(1 + j), "ra": "0", "dec": "0", "gz2_class": "A", "total_classifications": "3"})
        mapping.append({"objid": str(1 + j), "sample": "original", "asset_id": str(9000 + j)})
    classes.append({"dr7objid": "424242", "ra": "0", "dec": "0", "gz2_class": "Sc", "total_classifications": "9"})
    # one corrupt JPEG (garbage bytes) and one image missing, both of labelled galaxies
    (root / "images" / "1000.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    missing = root / "images" / ("1002.jpg" if (root / "images" / "1002.jpg").exists() else "1002.png")
    missing.unlink()
    for name, rows in (("gz2_hart16.csv", classes), ("gz2_filename_mapping.csv", mapping)):
        with open(root / name, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    kept = np.delete(labels, [0, 2])
    return {"n_spiral": int((kept == 1).sum()), "n_elliptical": int((kept == 0).sum()), "dropped_other": n_other,
            "no_mapping": 1, "missing": 1, "unreadable": 1}

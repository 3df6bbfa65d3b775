"""Galaxy Zoo 2 as a binary task: spiral (gz2_class S...) vs elliptical (E...).

Three inputs in `data_dir`: the classification CSV (`gz2_hart16.csv`: `dr7objid`, `gz2_class`),
the filename mapping CSV (`gz2_filename_mapping.csv`: `objid`, `asset_id`) and a folder of
images named `<asset_id>.jpg` (or .png). Other classes (stars, artefacts) are dropped, and
rows without a mapping, missing images and unreadable images are skipped; all are counted.
"""
from __future__ import annotations

from pathlib import Path

from .csv_manifest import read_csv_rows
from .dataset import DataError, ImageData
from .image_files import image_files_data
from .image_folder import require_dir

CLASS_NAMES = ["elliptical", "spiral"]
_PREFIX = {"E": 0, "S": 1}
_EXTENSIONS = (".jpg", ".jpeg", ".png")


def _image_path(folder: Path, asset_id: str) -> Path:
    for ext in _EXTENSIONS:
        p = folder / f"{asset_id}{ext}"
        if p.is_file():
            return p
    return folder / f"{asset_id}.jpg"   # absent: the cache step counts it as missing


def load_galaxy_zoo(data_dir: str | None = None, classes_csv: str = "gz2_hart16.csv",
                    mapping_csv: str = "gz2_filename_mapping.csv", images: str = "images",
                    size: object = 64, channels: object = 3, limit: int | None = None) -> ImageData:
    """Galaxy Zoo 2 spiral/elliptical; `limit` keeps the first N labelled galaxies (quick looks)."""
    root = require_dir(data_dir, "galaxy_zoo", f"{classes_csv}, {mapping_csv} and an {images}/ folder")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        raise DataError(f"dataset option limit = {limit!r}: an int >= 1, or null for all galaxies")
    image_dir = root / images
    if not image_dir.is_dir():
        raise DataError(f"{image_dir}: images folder not found (dataset option images = {images!r})")
    classes = read_csv_rows(root / classes_csv, ["dr7objid", "gz2_class"])
    mapping = {r["objid"]: r["asset_id"] for r in read_csv_rows(root / mapping_csv, ["objid", "asset_id"])}
    paths, labels, notes = [], [], {"dropped_other_classes": 0, "no_filename_mapping": 0}
    for row in classes:
        label = _PREFIX.get(row["gz2_class"][:1])
        if label is None:
            notes["dropped_other_classes"] += 1
            continue
        asset = mapping.get(row["dr7objid"])
        if asset is None:
            notes["no_filename_mapping"] += 1
            continue
        paths.append(_image_path(image_dir, asset))
        labels.append(label)
        if limit and len(paths) >= limit:
            break
    if not paths:
        raise DataError(f"{root / classes_csv}: no spiral (S...) or elliptical (E...) galaxy has a filename mapping "
                        f"in {root / mapping_csv} ({len(classes)} rows, {notes})")
    return image_files_data("galaxy_zoo", root, paths, labels, [False] * len(paths), CLASS_NAMES, size, channels,
                            str(root), notes)

"""A user's own images listed in a CSV manifest: `path,label` (plus an optional `split` column).

Paths are relative to the manifest's folder (or absolute). A `split` column with values
`train`/`test` gives a held-out test set; without one hpsearch carves a seeded stratified one.
"""
from __future__ import annotations

import csv
from pathlib import Path

from .dataset import DataError, ImageData
from .image_files import image_files_data

SPLITS = ("train", "test")


def read_csv_rows(path: Path, required: list[str]) -> list[dict[str, str]]:
    """All rows of a CSV file with a header; a DataError names the file when it or a column is missing."""
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in required if c not in header]
            if missing:
                raise DataError(f"{path}: missing column(s) {missing}; the header has {header}")
            return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DataError(f"{path}: cannot read CSV: {e}") from None


def _manifest_path(data_dir: str | None, manifest: str | None) -> Path:
    if manifest:
        p = Path(manifest).expanduser()
        return p if p.is_absolute() or not data_dir else Path(data_dir).expanduser() / p
    if data_dir and Path(data_dir).expanduser().is_file():
        return Path(data_dir).expanduser()
    if data_dir:
        return Path(data_dir).expanduser() / "manifest.csv"
    raise DataError("dataset csv_manifest: needs dataset.data_dir (the manifest CSV, or its folder) "
                    "or dataset.options.manifest")


def load_csv_manifest(data_dir: str | None = None, manifest: str | None = None, path_column: str = "path",
                      label_column: str = "label", split_column: str = "split", size: object = 32,
                      channels: object = 3) -> ImageData:
    """Images listed in a CSV (`path,label[,split]`); class names are the sorted distinct labels."""
    csv_path = _manifest_path(data_dir, manifest)
    rows = read_csv_rows(csv_path, [path_column, label_column])
    if not rows:
        raise DataError(f"{csv_path}: no rows below the header")
    base = csv_path.parent
    has_split = split_column in rows[0]
    for i, r in enumerate(rows, start=2):
        if not r[path_column] or not r[label_column]:
            raise DataError(f"{csv_path}: line {i}: empty {path_column!r} or {label_column!r}")
        if has_split and r[split_column] not in SPLITS:
            raise DataError(f"{csv_path}: line {i}: {split_column} = {r[split_column]!r}: one of {list(SPLITS)}")
    class_names = sorted({r[label_column] for r in rows if not has_split or r[split_column] == "train"})
    unknown = sorted({r[label_column] for r in rows} - set(class_names))
    if unknown:
        raise DataError(f"{csv_path}: test label(s) {unknown} never appear in the training rows")
    paths = [Path(r[path_column]) if Path(r[path_column]).is_absolute() else base / r[path_column] for r in rows]
    labels = [class_names.index(r[label_column]) for r in rows]
    is_test = [has_split and r[split_column] == "test" for r in rows]
    return image_files_data("csv_manifest", base, paths, labels, is_test, class_names, size, channels,
                            str(csv_path))

"""CSV manifests: path,label[,split], paths relative to the manifest."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trainables.data import DataError, load_dataset

from .fakes import write_manifest


def test_manifest_without_split(tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path, n=40)
    for where in (str(tmp_path), str(manifest)):   # the folder or the file itself
        data = load_dataset("csv_manifest", where, {"size": 10})
        assert data.class_names == ["healthy", "sick"] and data.x_train.shape == (40, 3, 10, 10)
        assert data.x_test is None and np.bincount(data.y_train).tolist() == [20, 20]
    # images keep their rows' labels: class k is bright in its own band (synthetic_images)
    bright = data.x_train[:, :, :5].mean(axis=(1, 2, 3)) > data.x_train[:, :, 5:].mean(axis=(1, 2, 3))
    np.testing.assert_array_equal(bright, data.y_train == 0)


def test_split_column_gives_held_out_test(tmp_path: Path) -> None:
    write_manifest(tmp_path, n=50, split=True)
    data = load_dataset("csv_manifest", str(tmp_path), {"channels": 1})
    assert len(data.y_test) == 10 and len(data.y_train) == 40 and data.in_shape == (1, 32, 32)


def test_manifest_option_and_other_columns(tmp_path: Path) -> None:
    write_manifest(tmp_path / "d", n=10)
    text = (tmp_path / "d" / "manifest.csv").read_text().replace("path,label", "file,diagnosis", 1)
    (tmp_path / "d" / "labels.csv").write_text(text)
    data = load_dataset("csv_manifest", str(tmp_path / "d"),
                        {"manifest": "labels.csv", "path_column": "file", "label_column": "diagnosis", "size": 8})
    assert len(data.y_train) == 10


@pytest.mark.parametrize("content, pattern", [
    ("file,label\nimg/0000.jpg,sick\n", r"manifest.csv: missing column\(s\) \['path'\]; the header has \['file', 'label'\]"),
    ("path,label\n", r"manifest.csv: no rows below the header"),
    ("path,label,split\nimg/0000.jpg,sick,holdout\n", r"manifest.csv: line 2: split = 'holdout': one of \['train', 'test'\]"),
    ("path,label\nimg/nope.jpg,sick\n", r"none of the 1 images could be read \(1 missing, 0 unreadable\)"),
])
def test_malformed_manifest(tmp_path: Path, content: str, pattern: str) -> None:
    write_manifest(tmp_path, n=4)
    (tmp_path / "manifest.csv").write_text(content)
    with pytest.raises(DataError, match=pattern):
        load_dataset("csv_manifest", str(tmp_path))


def test_option_of_the_wrong_type(tmp_path: Path) -> None:
    write_manifest(tmp_path, n=4)
    with pytest.raises(DataError, match=r"dataset.options.path_column = 3: a string \(default 'path'\)"):
        load_dataset("csv_manifest", str(tmp_path), {"path_column": 3})

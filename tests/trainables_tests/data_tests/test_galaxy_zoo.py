"""Galaxy Zoo 2: CSV pair + JPEG/PNG images, with dropped classes, a corrupt and a missing image."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from trainables.data import DataError, load_dataset, make_trial_data
from trainables.data import test_split as carve_test_set

from .fakes import write_galaxy_zoo


def test_labels_skips_and_counts(tmp_path: Path) -> None:
    expected = write_galaxy_zoo(tmp_path, n=60)
    data = load_dataset("galaxy_zoo", str(tmp_path), {"size": 16})
    assert data.class_names == ["elliptical", "spiral"]
    assert data.x_train.shape == (expected["n_spiral"] + expected["n_elliptical"], 3, 16, 16)
    assert data.x_test is None   # GZ2 has no test set: the search carves a stratified one
    assert np.bincount(data.y_train).tolist() == [expected["n_elliptical"], expected["n_spiral"]]
    assert data.notes == {"dropped_other_classes": 5, "no_filename_mapping": 1,
                          "missing_images": 1, "unreadable_images": 1}
    # images keep their label: ellipticals are bright on top, spirals at the bottom (see fakes)
    top = data.x_train[:, :, :8].mean(axis=(1, 2, 3)) > data.x_train[:, :, 8:].mean(axis=(1, 2, 3))
    np.testing.assert_array_equal(top, data.y_train == 0)


def test_size_and_channels_options(tmp_path: Path) -> None:
    write_galaxy_zoo(tmp_path, n=20)
    data = load_dataset("galaxy_zoo", str(tmp_path), {"size": [12, 20], "channels": 1, "limit": 10})
    assert data.x_train.shape[1:] == (1, 12, 20) and len(data.y_train) <= 10


def test_test_and_validation_splits_keep_the_60_40_ratio(tmp_path: Path) -> None:
    write_galaxy_zoo(tmp_path, n=100)
    data = carve_test_set(load_dataset("galaxy_zoo", str(tmp_path), {"size": 8}), 0.2, seed=0)
    trial = make_trial_data(data, 0.25, seed=0)
    for y in (data.y_test, trial.y_train, trial.y_val):
        assert abs((y == 1).mean() - 0.6) < 0.06
    assert len(data.y_test) == pytest.approx(0.2 * (len(data.y_test) + len(data.y_train)), abs=1)


@pytest.mark.parametrize("file, header, missing", [
    ("gz2_hart16.csv", ["objid", "gz2_class"], "'dr7objid'"),
    ("gz2_filename_mapping.csv", ["dr7objid", "asset"], "'objid', 'asset_id'"),
])
def test_wrong_columns_name_the_file_and_column(tmp_path: Path, file: str, header: list[str], missing: str) -> None:
    write_galaxy_zoo(tmp_path, n=10)
    with open(tmp_path / file, "w", newline="") as f:
        csv.writer(f).writerows([header, ["1", "Sc"]])
    with pytest.raises(DataError, match=rf"{file}: missing column\(s\) \[{missing}\]"):
        load_dataset("galaxy_zoo", str(tmp_path))


def test_missing_images_folder_and_csv(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"images: images folder not found"):
        load_dataset("galaxy_zoo", str(tmp_path))
    (tmp_path / "images").mkdir()
    with pytest.raises(DataError, match=r"gz2_hart16.csv: file not found"):
        load_dataset("galaxy_zoo", str(tmp_path))

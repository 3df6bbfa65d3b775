"""Fashion-MNIST lookup: a named data_dir only; else $HPSEARCH_DATA_DIR, Debian's folder, cache, download."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from trainables.data import DataError, load_dataset, make_trial_data, mnist
from trainables.data.idx import read_idx


def test_data_dir_comes_first(idx_dir, monkeypatch, tmp_path):
    other = tmp_path / "env"
    shutil.copytree(idx_dir, other)
    monkeypatch.setenv("HPSEARCH_DATA_DIR", str(other))
    data = load_dataset("fashion_mnist", data_dir=str(idx_dir), options={"download": False})
    assert data.source.startswith("data_dir") and str(idx_dir) in data.source
    assert data.x_train.shape == (600, 1, 28, 28) and data.x_test.shape == (200, 1, 28, 28)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.x_train[:, 0], read_idx(idx_dir / "train-images-idx3-ubyte.gz"))
    assert data.class_names[0] == "T-shirt/top" and data.num_classes == 10


def test_env_var_before_debian_and_cache(idx_dir, monkeypatch):
    monkeypatch.setenv("HPSEARCH_DATA_DIR", str(idx_dir))
    data = load_dataset("fashion_mnist", options={"download": False})
    assert data.source.startswith("$HPSEARCH_DATA_DIR")


def test_torchvision_layout_is_found(idx_dir, tmp_path):
    nested = tmp_path / "root" / "FashionMNIST" / "raw"
    shutil.copytree(idx_dir, nested)
    data = load_dataset("fashion_mnist", data_dir=str(tmp_path / "root"), options={"download": False})
    assert str(nested) in data.source


def test_order_of_candidates(monkeypatch, tmp_path):
    monkeypatch.setenv("HPSEARCH_DATA_DIR", str(tmp_path / "env"))
    labels = [label for label, _ in mnist.candidate_dirs("fashion_mnist", None)]
    firsts = list(dict.fromkeys(labels))
    assert firsts == ["$HPSEARCH_DATA_DIR", "Debian package dataset-fashion-mnist", "hpsearch download cache"]
    named = {label for label, _ in mnist.candidate_dirs("fashion_mnist", str(tmp_path / "cfg"))}
    assert named == {"data_dir (config or --data-dir)"}  # a named folder is the only place


def test_a_named_data_dir_without_the_files_is_an_error_not_a_fallback(idx_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("HPSEARCH_DATA_DIR", str(idx_dir))  # the data is elsewhere, and must not be used
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as e:
        load_dataset("fashion_mnist", data_dir=str(tmp_path / "empty"), options={"download": False})
    assert str(e.value).startswith(f"dataset.data_dir = '{tmp_path / 'empty'}': does not hold fashion_mnist")
    assert "\n" not in str(e.value)


def test_missing_everywhere_lists_every_place_and_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("HPSEARCH_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setattr(mnist, "_VARIANTS", {**mnist._VARIANTS, "fashion_mnist": (
        "FashionMNIST", "FashionMNIST", str(tmp_path / "debian"), "dataset-fashion-mnist", mnist.FASHION_CLASSES)})
    with pytest.raises(DataError) as e:
        load_dataset("fashion_mnist", options={"download": False})
    msg = str(e.value)
    for place in ("env", "debian", "hpsearch-cache"):
        assert place in msg, place
    assert "apt-get install dataset-fashion-mnist" in msg
    assert "--data-dir" in msg and "HPSEARCH_DATA_DIR" in msg
    assert "download: disabled" in msg


def test_unknown_dataset():
    with pytest.raises(DataError, match="unknown dataset 'nope'"):
        load_dataset("nope")


def test_validation_split_is_stratified_and_seeded(idx_dir):
    data = load_dataset("fashion_mnist", data_dir=str(idx_dir), options={"download": False})
    a = make_trial_data(data, 0.2, seed=3)
    b = make_trial_data(data, 0.2, seed=3)
    c = make_trial_data(data, 0.2, seed=4)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.x_val, c.x_val)
    assert len(a.y_val) == 120 and len(a.y_train) == 480
    # every class keeps its share: 60 per class in the 600 generated images -> 12 validation each
    assert set(np.bincount(a.y_val, minlength=10)) == {12}
    # the split is disjoint and complete
    assert len(a.y_train) + len(a.y_val) == len(data.y_train)

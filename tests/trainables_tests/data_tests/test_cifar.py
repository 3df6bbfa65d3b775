"""CIFAR python batches: folder and tar.gz, colour and grayscale, CIFAR-100, broken files."""
from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from trainables.data import DataError, load_dataset, make_trial_data
from trainables.data.cifar import to_grayscale

from .fakes import CIFAR10_NAMES, _pickle, write_cifar10

OFF = {"download": False}   # tests never download


def _written(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    batches = [pickle.load(open(folder / f"data_batch_{i}", "rb"), encoding="bytes") for i in range(1, 6)]
    return (np.concatenate([b[b"data"] for b in batches]).reshape(-1, 3, 32, 32),
            np.concatenate([b[b"labels"] for b in batches]))


def test_folder_and_archive_give_the_same_arrays(tmp_path: Path) -> None:
    folder = write_cifar10(tmp_path / "a")
    x_written, y_written = _written(folder)
    write_cifar10(tmp_path / "b", archive=True)
    from_folder = load_dataset("cifar10", str(tmp_path / "a"), OFF)
    from_tar = load_dataset("cifar10", str(tmp_path / "b"), OFF)
    from_tar_file = load_dataset("cifar10", str(tmp_path / "b" / "cifar-10-python.tar.gz"), OFF)
    assert from_folder.x_train.shape == (200, 3, 32, 32) and from_folder.x_test.shape == (50, 3, 32, 32)
    assert from_folder.class_names == CIFAR10_NAMES
    np.testing.assert_array_equal(from_folder.x_train, x_written)
    np.testing.assert_array_equal(from_folder.y_train, y_written)
    for d in (from_tar, from_tar_file):
        np.testing.assert_array_equal(d.x_train, from_folder.x_train)
        np.testing.assert_array_equal(d.y_test, from_folder.y_test)
    assert "cifar-10-python.tar.gz" in from_tar.source and "cifar-10-batches-py" in from_folder.source


def test_grayscale_is_luminance_with_one_channel(tmp_path: Path) -> None:
    write_cifar10(tmp_path, archive=True)
    colour = load_dataset("cifar10", str(tmp_path), OFF)
    gray = load_dataset("cifar10_gray", str(tmp_path), OFF)
    via_option = load_dataset("cifar10", str(tmp_path), {**OFF, "grayscale": True})
    assert gray.name == "cifar10_gray" and gray.in_shape == (1, 32, 32) and gray.x_test.shape == (50, 1, 32, 32)
    np.testing.assert_array_equal(gray.x_train, via_option.x_train)
    pil = np.asarray(Image.fromarray(colour.x_train[7].transpose(1, 2, 0)).convert("L"))
    assert np.abs(gray.x_train[7, 0].astype(int) - pil.astype(int)).max() <= 1   # PIL's integer rounding
    assert to_grayscale(np.full((1, 3, 2, 2), 255, np.uint8)).max() == 255


def test_cifar100_reads_fine_labels(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    names = [f"class{i:03d}" for i in range(100)]
    _pickle(folder / "meta", {b"fine_label_names": [n.encode() for n in names], b"coarse_label_names": [b"x"] * 20})
    rng = np.random.default_rng(0)
    for split, n in (("train", 300), ("test", 100)):
        _pickle(folder / split, {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                                 b"fine_labels": list(np.arange(n) % 100), b"coarse_labels": [0] * n})
    data = load_dataset("cifar100", str(tmp_path), OFF)
    assert data.num_classes == 100 and data.class_names[42] == "class042"
    assert data.x_train.shape == (300, 3, 32, 32) and np.bincount(data.y_train).tolist() == [3] * 100


def test_truncated_batch_names_the_file(tmp_path: Path) -> None:
    folder = write_cifar10(tmp_path)
    raw = (folder / "data_batch_3").read_bytes()
    (folder / "data_batch_3").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(DataError, match=r"data_batch_3: not a readable CIFAR python batch"):
        load_dataset("cifar10", str(tmp_path), OFF)


def test_a_pickle_that_runs_code_is_refused(tmp_path: Path) -> None:
    folder = write_cifar10(tmp_path)

    class Evil:
        def __reduce__(self):
            return (shutil.rmtree, (str(tmp_path),))  # would delete the data folder if unpickled

    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(DataError, match=r"test_batch: .*refusing to load shutil.rmtree"):
        load_dataset("cifar10", str(tmp_path), OFF)
    assert folder.is_dir()


def test_missing_dataset_lists_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPSEARCH_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=r"(?s)cifar10: python batches .* not found.*HPSEARCH_DATA_DIR.*download: disabled"):
        load_dataset("cifar10", None, OFF)


def test_a_named_data_dir_must_hold_the_dataset(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"^dataset.data_dir = .*: does not hold cifar10 \(cifar-10-python.tar.gz"):
        load_dataset("cifar10", str(tmp_path), OFF)


@pytest.mark.parametrize("options, pattern", [
    ({"colour": True}, r"dataset.options.colour = True: unknown option for dataset 'cifar10'; allowed: grayscale"),
    ({"grayscale": "yes"}, r"grayscale = 'yes': true or false"),
])
def test_bad_options_name_option_and_allowed(tmp_path: Path, options: dict, pattern: str) -> None:
    write_cifar10(tmp_path)
    with pytest.raises(DataError, match=pattern):
        load_dataset("cifar10", str(tmp_path), {**OFF, **options})


def test_validation_split_is_stratified_and_seeded(tmp_path: Path) -> None:
    write_cifar10(tmp_path)
    data = load_dataset("cifar10", str(tmp_path), OFF)
    a, b = make_trial_data(data, 0.2, seed=3), make_trial_data(data, 0.2, seed=3)
    per_class_total = np.bincount(data.y_train, minlength=10)
    per_class_val = np.bincount(a.y_val, minlength=10)
    assert np.all(np.abs(per_class_val - 0.2 * per_class_total) <= 1)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert a.in_shape == (3, 32, 32) and len(a.mean) == 3

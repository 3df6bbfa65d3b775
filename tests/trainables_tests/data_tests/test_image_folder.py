"""Image folders: classes from subfolder names, train/test layout, and the resize-and-cache step."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from trainables.data import DataError, load_dataset, make_trial_data
from trainables.data import test_split as carve_test_set
from trainables.data.image_cache import CACHE_FOLDER

from .fakes import save_image, write_image_folder


@pytest.fixture
def count_opens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every image file PIL opens (PIL.Image.open wrapped, not replaced)."""
    opened: list[str] = []
    real = PIL.Image.open

    def counting(fp, *a, **k):
        opened.append(str(fp))
        return real(fp, *a, **k)

    monkeypatch.setattr(PIL.Image, "open", counting)
    return opened


def test_classes_shapes_and_stratified_splits(tmp_path: Path) -> None:
    write_image_folder(tmp_path, per_class=30)
    data = load_dataset("image_folder", str(tmp_path), {"size": 16})
    assert data.class_names == ["cat", "dog", "owl"]
    assert data.x_train.shape == (90, 3, 16, 16) and data.x_train.dtype == np.uint8
    assert np.bincount(data.y_train).tolist() == [30, 30, 30]
    held = carve_test_set(data, 0.2, seed=1)
    trial = make_trial_data(held, 0.1, seed=1)
    assert np.bincount(held.y_test).tolist() == [6, 6, 6]
    assert np.bincount(trial.y_val).tolist() == [2, 2, 2]   # 10% of the 24 left per class, rounded
    gray = load_dataset("image_folder", str(tmp_path), {"size": [8, 12], "channels": 1})
    assert gray.in_shape == (1, 8, 12)


def test_train_and_test_subfolders_give_a_held_out_test_set(tmp_path: Path) -> None:
    write_image_folder(tmp_path / "train", per_class=10, classes=("a", "b"))
    write_image_folder(tmp_path / "test", per_class=4, classes=("a", "b"), seed=5)
    data = load_dataset("image_folder", str(tmp_path), {"size": 8})
    assert data.class_names == ["a", "b"] and len(data.y_train) == 20 and len(data.y_test) == 8


def test_second_load_reads_no_image_and_a_changed_file_rebuilds(tmp_path: Path, count_opens: list[str]) -> None:
    write_image_folder(tmp_path, per_class=10)
    first = load_dataset("image_folder", str(tmp_path), {"size": 16})
    assert len(count_opens) == 30
    caches = list((tmp_path / CACHE_FOLDER).glob("*.npz"))
    assert len(caches) == 1

    count_opens.clear()
    second = load_dataset("image_folder", str(tmp_path), {"size": 16})
    assert count_opens == []                      # served from the cache file
    np.testing.assert_array_equal(first.x_train, second.x_train)

    changed = sorted((tmp_path / "dog").iterdir())[0]
    save_image(changed, np.full((3, 24, 24), 7, np.uint8))
    os.utime(changed, ns=(1, 1))                  # a different mtime even on coarse-clock filesystems
    third = load_dataset("image_folder", str(tmp_path), {"size": 16})
    assert len(count_opens) == 30                 # rebuilt
    assert (third.x_train == 7).all(axis=(1, 2, 3)).sum() == 1
    assert [p.name for p in (tmp_path / CACHE_FOLDER).glob("*.npz")] != [caches[0].name]
    assert len(list((tmp_path / CACHE_FOLDER).glob("*.npz"))) == 1   # the stale one is gone

    count_opens.clear()
    load_dataset("image_folder", str(tmp_path), {"size": 12})      # another size is another cache
    assert len(count_opens) == 30


def test_unreadable_image_is_skipped_and_counted(tmp_path: Path) -> None:
    write_image_folder(tmp_path, per_class=5, classes=("a", "b"))
    (tmp_path / "a" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    data = load_dataset("image_folder", str(tmp_path), {"size": 8})
    assert len(data.y_train) == 10 and data.notes["unreadable_images"] == 1


@pytest.mark.parametrize("layout, pattern", [
    ("empty", r"empty: expected one subfolder of images per class"),
    ("empty_class", r"class folder\(s\) \['b'\] hold no images"),
    ("missing", r"not a folder"),
])
def test_bad_folders(tmp_path: Path, layout: str, pattern: str) -> None:
    root = tmp_path / "data"
    if layout != "missing":
        root.mkdir()
    if layout == "empty_class":
        write_image_folder(root, per_class=2, classes=("a",))
        (root / "b").mkdir()
        (root / "b" / "notes.txt").write_text("no images here")
    with pytest.raises(DataError, match=pattern):
        load_dataset("image_folder", str(root))


def test_bad_size_option(tmp_path: Path) -> None:
    write_image_folder(tmp_path, per_class=2)
    with pytest.raises(DataError, match=r"size = 2000: an int or \[height, width\], each in 4..1024"):
        load_dataset("image_folder", str(tmp_path), {"size": 2000})


def test_cache_falls_back_to_the_hpsearch_cache_when_the_data_folder_cannot_hold_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count_opens: list[str]) -> None:
    monkeypatch.setenv("HPSEARCH_CACHE", str(tmp_path / "user-cache"))
    write_image_folder(tmp_path / "data", per_class=4)
    (tmp_path / "data" / CACHE_FOLDER).write_text("a file where the cache folder would go")
    load_dataset("image_folder", str(tmp_path / "data"), {"size": 8})
    assert len(list((tmp_path / "user-cache" / "images").glob("image_folder-*.npz"))) == 1
    count_opens.clear()
    data = load_dataset("image_folder", str(tmp_path / "data"), {"size": 8})
    assert count_opens == [] and "user-cache" in data.source

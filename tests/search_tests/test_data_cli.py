"""`hpsearch data list` and `hpsearch data show NAME --data-dir --option`."""
from __future__ import annotations

from pathlib import Path

from search.cli import main
from tests.trainables_tests.data_tests.fakes import write_cifar10, write_galaxy_zoo


def test_list_describes_every_dataset(capsys) -> None:
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("cifar10", "cifar10_gray", "cifar100", "galaxy_zoo", "image_folder", "csv_manifest", "fashion_mnist"):
        assert f"\n{name} " in f"\n{out}"
    assert "Galaxy Zoo 2 spiral vs elliptical" in out


def test_show_galaxy_zoo_prints_splits_classes_and_skips(tmp_path: Path, capsys) -> None:
    write_galaxy_zoo(tmp_path, n=100)
    assert main(["data", "show", "galaxy_zoo", "--data-dir", str(tmp_path), "--option", "size=16"]) == 0
    out = capsys.readouterr().out
    assert "galaxy_zoo: 2 classes, images 3x16x16" in out
    assert "splits: train 70, validation 8, test 20" in out and "carved from train" in out
    lines = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith("  ")}
    assert lines["elliptical"] == ["28", "3", "8"] and lines["spiral"] == ["42", "5", "12"]
    assert "dropped other classes: 5" in out and "missing images: 1" in out and "unreadable images: 1" in out
    assert f"found at: {tmp_path}" in out


def test_show_cifar_with_options_and_errors(tmp_path: Path, capsys) -> None:
    write_cifar10(tmp_path, archive=True)
    assert main(["data", "show", "cifar10", "--data-dir", str(tmp_path), "--option", "grayscale=true",
                 "--option", "download=false"]) == 0
    out = capsys.readouterr().out
    assert "cifar10_gray: 10 classes, images 1x32x32" in out and "test: held-out test set" in out
    assert main(["data", "show", "cifar10", "--data-dir", str(tmp_path), "--option", "gray=true"]) == 2
    assert "error: dataset.options.gray = True: unknown option for dataset 'cifar10'" in capsys.readouterr().err


def test_validate_catches_a_misspelt_dataset_option(make_experiment, capsys) -> None:
    exp = make_experiment("typo", dataset={"name": "image_folder", "options": {"sise": 64}})
    assert main(["validate", str(exp)]) == 2
    err = capsys.readouterr().err
    assert "dataset.options = {'sise': 64}" in err and "unknown option for dataset 'image_folder'; allowed: size" in err

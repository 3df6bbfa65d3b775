"""Every dataset format through a short real search (Ray Tune + Optuna + PyTorch), and bad data stopping it early."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis import load_experiment
from search.cli import main
from tests.trainables_tests.data_tests.fakes import write_cifar10, write_galaxy_zoo, write_image_folder, write_manifest

TINY = {"num_samples": 2, "max_epochs": 1, "grace_period": 1}


def _search(make_experiment, capfd, name: str, space: str, dataset: dict, **sections) -> tuple[str, object]:
    exp = make_experiment(name, space=space, budget=TINY,
                          dataset={"train_subset": None, "val_fraction": 0.2, **dataset}, **sections)
    # --verbose: Ray's own progress instead of ProgressLines, whose stored sys.stdout (pytest's capture
    # object) Ray cannot pickle into the experiment state
    code = main(["run", str(exp), "--verbose"])
    out = capfd.readouterr().out
    assert code == 0, out
    result = load_experiment(str(exp.parent / "results" / name))
    assert len(result.trials) == 2 and set(result.trials["ended"]) == {"completed"}
    return out, result


@pytest.mark.slow
def test_cifar10_gray_from_tar_gz(ray_session, tmp_path: Path, make_experiment, capfd) -> None:
    write_cifar10(tmp_path / "cifar", per_batch=40, archive=True)
    out, _ = _search(make_experiment, capfd, "cifar_gray", "lenet5",
                     {"name": "cifar10", "data_dir": str(tmp_path / "cifar"), "options": {"grayscale": True,
                                                                                          "download": False}})
    assert "on cifar10 (160 train / 40 validation images)" in out


@pytest.mark.slow
def test_galaxy_zoo_binary_search_reports_macro_f1(ray_session, tmp_path: Path, make_experiment, capfd) -> None:
    write_galaxy_zoo(tmp_path / "gz2", n=120)
    out, result = _search(make_experiment, capfd, "galaxies", "mlp",
                          {"name": "galaxy_zoo", "data_dir": str(tmp_path / "gz2"), "options": {"size": 16},
                           "class_weights": True, "sampling": "balanced"},
                          search={"seed": 0, "metric": "val_f1_macro"})
    board = out.split("leaderboard (")[1]
    assert board.startswith("val_f1_macro, max") and "val_f1_macro" in board
    assert result.trials["val_f1_macro"].between(0, 1).all()


@pytest.mark.slow
def test_image_folder_and_csv_manifest(ray_session, tmp_path: Path, make_experiment, capfd) -> None:
    write_image_folder(tmp_path / "pets", per_class=40)
    out, _ = _search(make_experiment, capfd, "pets", "mlp",
                     {"name": "image_folder", "data_dir": str(tmp_path / "pets"), "options": {"size": 16}})
    # 40 per class: 8 to the test set, then round(0.2 * 32) = 6 to validation, per class
    assert "(78 train / 18 validation images)" in out
    write_manifest(tmp_path / "clinic", n=120, split=True)
    _search(make_experiment, capfd, "clinic", "mlp",
            {"name": "csv_manifest", "data_dir": str(tmp_path / "clinic" / "manifest.csv"),
             "options": {"size": 16, "channels": 1}})


def _truncated_batch(root: Path) -> tuple[str, dict, str]:
    folder = write_cifar10(root)
    raw = (folder / "data_batch_2").read_bytes()
    (folder / "data_batch_2").write_bytes(raw[:100])
    return "cifar10", {"download": False}, r"data_batch_2: not a readable CIFAR python batch"


def _wrong_columns(root: Path) -> tuple[str, dict, str]:
    write_galaxy_zoo(root, n=10)
    (root / "gz2_hart16.csv").write_text("objid,class\n1,Sc\n")
    return "galaxy_zoo", {}, r"gz2_hart16.csv: missing column\(s\) \['dr7objid', 'gz2_class'\]"


def _empty_folder(root: Path) -> tuple[str, dict, str]:
    root.mkdir()
    return "image_folder", {}, r"data: empty: expected one subfolder of images per class"


def _bad_manifest(root: Path) -> tuple[str, dict, str]:
    write_manifest(root, n=4)
    (root / "manifest.csv").write_text("image,label\na.jpg,x\n")
    return "csv_manifest", {}, r"manifest.csv: missing column\(s\) \['path'\]"


def _unknown_option(root: Path) -> tuple[str, dict, str]:
    write_image_folder(root, per_class=2)
    return "image_folder", {"resize": 32}, r"dataset.options.resize = 32: unknown option .* allowed: size"


@pytest.mark.parametrize("broken", [_truncated_batch, _wrong_columns, _empty_folder, _bad_manifest, _unknown_option])
def test_bad_dataset_stops_before_any_trial(tmp_path: Path, make_experiment, capfd, broken) -> None:
    name, options, pattern = broken(tmp_path / "data")
    exp = make_experiment("bad", dataset={"name": name, "data_dir": str(tmp_path / "data"), "options": options})
    assert main(["run", str(exp)]) == 2
    err = capfd.readouterr().err
    assert err.startswith("error: ") and re.search(pattern, err), err
    assert not (tmp_path / "results" / "bad").exists()

"""`hpsearch final` then `hpsearch predict` round-trips: predictions on image files equal the evaluation's."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from sklearn import metrics as skm

from analysis.bundle import load_bundle
from analysis.crossval import cross_validate, stratified_folds
from analysis.experiment_data import load_experiment_data

from .conftest import run_cli


@pytest.fixture(scope="module")
def final_run(finished_exp, tmp_path_factory):
    """`hpsearch final` once for this module: (bundle folder, stdout, stderr)."""
    bundle = tmp_path_factory.mktemp("final") / "bundle"
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert run_cli("final", str(finished_exp), "--out", str(bundle)) == 0
    return bundle, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_final_then_predict_round_trip(finished_exp, final_run, tmp_path, capsys):
    bundle, out, err = final_run
    assert "retrain: epoch 1/" in err and "evaluating on 10000 test images" in err  # progress lines
    assert "bundle:" in out and "accuracy" in out
    meta = json.loads((bundle / "bundle.json").read_text())
    assert meta["class_names"][0] == "T-shirt/top" and meta["preprocessing"]["in_shape"] == [1, 28, 28]
    assert meta["config"]["family"] == "lenet5" and "lr" in meta["config"]
    preds = pd.read_csv(bundle / "test_predictions.csv")
    assert meta["metrics"]["accuracy"] == pytest.approx(skm.accuracy_score(preds["true"], preds["predicted"]))

    data = load_experiment_data(finished_exp)
    files = []
    for i in range(12):  # PNG is lossless: the files hold exactly the test images
        files.append(tmp_path / f"test_{i}.png")
        Image.fromarray(data.x_test[i, 0]).save(files[-1])
    assert run_cli("predict", str(bundle), *map(str, files)) == 0
    lines = [ln.split("\t") for ln in capsys.readouterr().out.strip().splitlines()]
    names = meta["class_names"]
    assert [ln[0] for ln in lines] == [str(f) for f in files]
    assert [names.index(ln[1]) for ln in lines] == list(preds["predicted"][:12])
    np.testing.assert_allclose([float(ln[2]) for ln in lines], preds["probability"][:12], atol=1e-4)


@pytest.mark.slow
def test_predict_resizes_and_converts_colour(final_run, tmp_path, capsys):
    bundle = final_run[0]
    rgb = tmp_path / "big.jpg"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(rgb)
    assert run_cli("predict", str(bundle), str(rgb)) == 0
    path, name, prob = capsys.readouterr().out.strip().split("\t")
    assert path == str(rgb) and name in load_bundle(bundle).class_names and 0 < float(prob) <= 1
    bad = tmp_path / "notes.txt"
    bad.write_text("not an image")
    assert run_cli("predict", str(bundle), str(bad)) == 2
    assert f"{bad}: cannot read as an image" in capsys.readouterr().err


@pytest.mark.slow
def test_cross_validation_of_top_config(finished_exp):
    table = cross_validate(finished_exp, folds=2, top=1, progress=None)
    assert len(table) == 1 and table["folds"].iloc[0] == 2
    row = table.iloc[0]
    assert len(row["fold_acc"]) == 2 and row["acc_mean"] == pytest.approx(np.mean(row["fold_acc"]), abs=1e-4)
    assert 0 < row["acc_mean"] <= 1 and row["acc_std"] >= 0


def test_stratified_folds_partition_and_balance():
    y = np.repeat(np.arange(4), [40, 20, 12, 8])
    folds = stratified_folds(y, 4, seed=0)
    assert np.array_equal(np.sort(np.concatenate(folds)), np.arange(len(y)))
    for f in folds:
        assert list(np.bincount(y[f], minlength=4)) == [10, 5, 3, 2]


def test_missing_bundle_is_a_clear_error(tmp_path, capsys):
    assert run_cli("predict", str(tmp_path), "x.png") == 2
    assert "not a model bundle" in capsys.readouterr().err

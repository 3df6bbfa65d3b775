"""`hpsearch final --ensemble K` on a real search: the ensemble beside the single best on the test set."""
from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from analysis.bundle import load_bundle
from analysis.experiment_data import load_experiment_data
from analysis.final import ranked_trials
from analysis.load import load_experiment

from .conftest import run_cli


@pytest.mark.slow
def test_final_ensemble_of_three_beside_the_single_best(finished_exp, tmp_path):
    out = tmp_path / "ensemble"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        assert run_cli("final", str(finished_exp), "--ensemble", "3", "--out", str(out)) == 0
    text = stdout.getvalue()
    print(text)
    assert "single best" in text and "ensemble of 3" in text and "T-shirt/top" in text  # per-class table

    report = json.loads((out / "final.json").read_text())
    top3 = list(ranked_trials(load_experiment(finished_exp))["trial_id"][:3])
    assert [m["trial_id"] for m in report["members"]] == top3  # best first, by validation score
    data = load_experiment_data(finished_exp)
    members = [load_bundle(out / m["folder"]) for m in report["members"]]
    member_probs = [b.probabilities(data.x_test) for b in members]
    ensemble = load_bundle(out)
    probs = ensemble.probabilities(data.x_test)
    np.testing.assert_allclose(probs, np.mean(member_probs, axis=0), atol=1e-6)  # the mean of the members

    acc = skm.accuracy_score(data.y_test, probs.argmax(1))
    single = skm.accuracy_score(data.y_test, member_probs[0].argmax(1))
    assert report["ensemble"]["accuracy"] == pytest.approx(acc) and report["single_best"]["accuracy"] == pytest.approx(single)
    assert report["accuracy_gain"] == pytest.approx(acc - single)
    f1 = skm.f1_score(data.y_test, probs.argmax(1), average=None)
    assert [r["f1"] for r in report["ensemble"]["per_class"]] == pytest.approx(list(f1))
    assert len(report["single_best"]["per_class"]) == 10 and report["test_images"] == 10000
    preds = pd.read_csv(out / "test_predictions.csv")
    assert (preds["predicted"].to_numpy() == probs.argmax(1)).all()


@pytest.mark.slow
@pytest.mark.parametrize("k", ["5", "1"])
def test_ensemble_size_out_of_range_exits_2_and_writes_nothing(finished_exp, tmp_path, capsys, k):
    before = sorted(p for p in finished_exp.rglob("*"))
    out = tmp_path / "ensemble"
    assert run_cli("final", str(finished_exp), "--ensemble", k, "--out", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"error: --ensemble {k}:") and "which is 4" in err
    assert not out.exists() and sorted(p for p in finished_exp.rglob("*")) == before

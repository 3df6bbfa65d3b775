"""Flip TTA is applied by one rule everywhere a model is scored after the search: the test evaluation, `final`'s
evaluation, the bundle (which records it) and `predict` from the bundle."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from analysis.bundle import load_bundle
from analysis.evaluate import evaluate_trial, flip_tta_for, predict_probs
from analysis.experiment_data import load_experiment_data
from analysis.final import final_model, ranked_trials
from analysis.layout import CONFIG_FILE
from analysis.load import load_experiment
from analysis.predict import predict_files


@pytest.fixture(scope="module")
def tta_exp(finished_exp, tmp_path_factory) -> Path:
    """The finished LeNet-5 search (trained without flips), with `search.tta: true` in its saved config."""
    folder = tmp_path_factory.mktemp("tta") / finished_exp.name
    shutil.copytree(finished_exp, folder)
    raw = yaml.safe_load((folder / CONFIG_FILE).read_text())
    raw["search"]["tta"] = True
    (folder / CONFIG_FILE).write_text(yaml.safe_dump(raw, sort_keys=False))
    return folder


@pytest.mark.slow
def test_default_is_off_for_a_search_without_flips(finished_exp):
    exp, data = load_experiment(finished_exp), load_experiment_data(finished_exp)
    best = str(ranked_trials(exp).iloc[0]["trial_id"])
    assert data.settings.tta is None
    assert not evaluate_trial(exp, best, data).flip_tta


@pytest.mark.slow
def test_test_evaluation_final_bundle_and_predict_agree_on_tta(tta_exp, tmp_path):
    exp, data = load_experiment(tta_exp), load_experiment_data(tta_exp)
    best = str(ranked_trials(exp).iloc[0]["trial_id"])
    ev = evaluate_trial(exp, best, data)
    assert data.settings.tta is True and flip_tta_for(ev.config, data.settings) and ev.flip_tta
    final = final_model(tta_exp, out=tmp_path / "bundle", progress=None)
    assert final.evaluation.flip_tta
    meta = json.loads((final.bundle / "bundle.json").read_text())
    assert meta["flip_tta"] is True
    bundle = load_bundle(final.bundle)
    x = data.x_test[:12]
    with_tta = predict_probs(bundle.model, bundle.preprocess, x, flip_tta=True)
    np.testing.assert_allclose(with_tta, final.evaluation.probs[:12], atol=1e-5)
    assert not np.allclose(with_tta, predict_probs(bundle.model, bundle.preprocess, x), atol=1e-4)
    files = []
    for i in range(len(x)):  # PNG is lossless: the files hold exactly the test images
        files.append(tmp_path / f"test_{i}.png")
        Image.fromarray(x[i, 0]).save(files[-1])
    preds = predict_files(bundle, files)
    csv = pd.read_csv(final.bundle / "test_predictions.csv")
    assert [p.label for p in preds] == list(csv["predicted"][:12])
    np.testing.assert_allclose([p.probability for p in preds], with_tta.max(1), atol=1e-5)

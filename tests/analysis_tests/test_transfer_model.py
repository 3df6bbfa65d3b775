"""A pretrained timm backbone's trial after the search: its checkpoint is evaluated, retrained, bundled and
predicted with the preprocessing it was trained with, and without its original pretrained weights.
Also: `hpsearch final` and `--folds` are not search trials, so the search's first-epoch time limit never applies."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import timm
import torch
import yaml
from PIL import Image
from safetensors.torch import save_file

from analysis.bundle import load_bundle
from analysis.crossval import cross_validate
from analysis.evaluate import evaluate_trial
from analysis.experiment_data import load_experiment_data
from analysis.final import final_model
from analysis.load import load_experiment
from analysis.predict import predict_files

from .conftest import run_search, write_experiment

RESNET = "test_resnet.r160_in1k"
# full fine-tuning: the model adapts to the backbone's normalisation, so any other one shows at once
POINT = {"family": "timm", "backbone": RESNET, "pretrained": True, "finetune": "full", "image_size": 32,
         "lr": 3e-3, "batch_size": 64}


@pytest.fixture(scope="module")
def transfer_exp(tmp_path_factory, ray_session, fashion_dir) -> tuple[Path, Path]:
    """A one-trial search of a timm backbone whose pretrained weights come from a local file: (experiment, file)."""
    folder = tmp_path_factory.mktemp("transfer")
    weights = folder / "test_resnet.safetensors"
    torch.manual_seed(0)
    save_file(timm.create_model(RESNET, pretrained=False).state_dict(), str(weights))
    space = {"name": "one_timm", "params": {k: {"type": "categorical", "choices": [v]} for k, v in POINT.items()}}
    (folder / "space.yaml").write_text(yaml.safe_dump(space))
    yml = write_experiment(folder, "transfer", space=str(folder / "space.yaml"),
                           pretrained_weights={RESNET: str(weights)},
                           dataset={"data_dir": str(fashion_dir), "train_subset": 2000},
                           budget={"num_samples": 1, "max_epochs": 2, "grace_period": 1})
    return run_search(yml), weights


@pytest.mark.slow
def test_evaluating_the_checkpoint_reproduces_the_trials_val_acc(transfer_exp):
    path, _ = transfer_exp
    exp = load_experiment(path)
    (trial_id,) = exp.trials["trial_id"]
    data = load_experiment_data(path)
    on_val = replace(data, x_test=data.data.x_val, y_test=data.data.y_val)  # the images it was scored on
    ev = evaluate_trial(exp, trial_id, on_val)
    reported = exp.epochs.set_index(["trial_id", "epoch"]).loc[(trial_id, ev.epoch), "val_acc"]
    print(f"val_acc reported {reported:.4f}, checkpoint evaluated {ev.metrics.accuracy:.4f}")
    assert reported > 0.3  # it learned: agreement below is not two chance levels agreeing
    assert abs(ev.metrics.accuracy - reported) <= 0.005


@pytest.mark.slow
def test_final_bundle_and_predict_need_no_pretrained_weights(transfer_exp, tmp_path, monkeypatch):
    path, weights = transfer_exp
    exp = load_experiment(path)
    (trial_id,) = exp.trials["trial_id"]
    search_acc = float(exp.trials["best_val_acc"].iloc[0])
    final = final_model(path, out=tmp_path / "bundle", progress=None)  # retraining starts from the weights file
    meta = json.loads((final.bundle / "bundle.json").read_text())
    rgb = timm.models.get_pretrained_cfg(RESNET).mean
    assert meta["preprocessing"]["mean"] == pytest.approx([sum(rgb) / 3])  # the backbone's, not the dataset's
    print(f"search val_acc {search_acc:.4f}, final test accuracy {final.evaluation.metrics.accuracy:.4f}")
    assert final.evaluation.metrics.accuracy > search_acc - 0.15

    moved = weights.rename(tmp_path / "elsewhere.safetensors")  # the weights file is gone, the hub unreachable
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    try:
        data = load_experiment_data(path)
        ev = evaluate_trial(exp, trial_id, data)
        assert ev.metrics.accuracy > search_acc - 0.15
        bundle = load_bundle(final.bundle)
        files = []
        for i in range(12):  # PNG is lossless: the files hold exactly the test images
            files.append(tmp_path / f"test_{i}.png")
            Image.fromarray(data.x_test[i, 0]).save(files[-1])
        preds = pd.read_csv(final.bundle / "test_predictions.csv")
        got = predict_files(bundle, files)
        assert [p.label for p in got] == list(preds["predicted"][:12])
        np.testing.assert_allclose([p.probability for p in got], preds["probability"][:12], atol=1e-4)
    finally:
        moved.rename(weights)


@pytest.mark.slow
def test_final_and_folds_ignore_the_search_time_limit(finished_exp, tmp_path):
    path = tmp_path / "exp"
    shutil.copytree(finished_exp, path)
    cfg_file = path / "hpsearch.yaml"
    cfg = yaml.safe_load(cfg_file.read_text())
    cfg["budget"]["max_epoch_seconds"] = 1e-6  # every first epoch of a search trial would be stopped as too slow
    cfg_file.write_text(yaml.safe_dump(cfg, sort_keys=False))
    final = final_model(path, out=tmp_path / "bundle", progress=None)
    assert final.epochs >= 1 and final.evaluation.metrics.accuracy > 0.3
    table = cross_validate(path, folds=2, top=1, progress=None)
    assert len(table["fold_acc"].iloc[0]) == 2 and table["acc_mean"].iloc[0] > 0.15  # chance: 0.1

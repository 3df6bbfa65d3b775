"""The `resnet_cpu` preset: its first warm start is the recipe of benchmarks/recipe_probe.py, and it trains one
tiny epoch on real Fashion-MNIST with a one-cycle schedule sized to that epoch and flip TTA in validation."""
from __future__ import annotations

import math

import pytest

from benchmarks.recipe_probe import config_from, parse_args
from spaces import Constant, get_preset
from trainables.data import load_dataset, make_trial_data
from trainables.loop import TrainSettings, run


def _warm_start() -> dict:
    space = get_preset("resnet_cpu")
    return {**{p.name: p.value for p in space.params if isinstance(p, Constant)}, **space.warm_start[0]}


def test_first_warm_start_is_the_probed_recipe() -> None:
    recipe = config_from(parse_args(["--augment"]))  # the probe's defaults: w16 s3, AdamW 1e-2, wd 1e-2, batch 256
    warm = _warm_start()
    assert {k: warm[k] for k in recipe} == recipe
    assert (warm["schedule"], warm["optimizer"]) == ("onecycle", "adamw")


def test_warm_start_trains_one_tiny_epoch(fashion_dir) -> None:
    data = make_trial_data(load_dataset("fashion_mnist", str(fashion_dir)), 0.2, seed=0, train_subset=1280)
    reports = []
    # batch 64, not the warm start's 256: 16 steps, so batch norm's running statistics settle enough to evaluate
    state = run({**_warm_start(), "batch_size": 64, "seed": 0}, data, TrainSettings(max_epochs=1, num_threads=1),
                lambda r, _s: reports.append(r))
    assert state is not None and len(reports) == 1
    r = reports[0]
    assert math.isfinite(r.train_loss) and not r.diverged
    # 16 one-cycle steps on 1,024 images: it learns (better than chance, 10%, and than a uniform guess's loss)
    assert r.val_acc > 0.2 and r.val_loss < math.log(10)
    # the one-cycle schedule spanned exactly this epoch: it ended on its final rate (peak / 25 / 1e4)
    assert state.schedule["_last_lr"][0] == pytest.approx(_warm_start()["lr"] / 25 / 1e4)

"""Class imbalance: balanced sampling draws classes equally often; the option is validated in the config."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from search.config import ConfigError, parse_config
from search.launch import settings_for
from tests.conftest import synthetic_images
from trainables.data import ImageData, make_trial_data
from trainables.loop import TrainSettings, balanced_sample_weights, run


def test_balanced_weights_draw_each_class_equally_often() -> None:
    y = np.array([0] * 90 + [1] * 10)
    w = balanced_sample_weights(y, 2)
    draws = torch.multinomial(w, 20000, replacement=True, generator=torch.Generator().manual_seed(0))
    share = (y[draws.numpy()] == 1).mean()
    assert abs(share - 0.5) < 0.02      # uniform shuffling would give 0.10


def test_balanced_training_runs_and_learns_the_minority_class() -> None:
    x, y = synthetic_images(400, 2, (1, 12, 12), seed=0)
    keep = np.concatenate([np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:40]])   # 200 vs 40
    data = make_trial_data(ImageData("imb", x[keep], y[keep], ["major", "minor"]), 0.25, seed=0)
    results = []
    run({"family": "mlp", "mlp_layers": 1, "mlp_units_1": 16, "lr": 0.01, "batch_size": 16}, data,
        TrainSettings(max_epochs=2, sampling="balanced", num_threads=1), lambda m, s: results.append(m.metrics()))
    assert len(results) == 2 and results[-1]["val_f1_macro"] > 0.9


def test_sampling_option_flows_from_config_to_settings() -> None:
    cfg = parse_config({"dataset": {"name": "galaxy_zoo", "sampling": "balanced", "class_weights": True}})
    s = settings_for(cfg)
    assert s.sampling == "balanced" and s.class_weights
    with pytest.raises(ConfigError, match=r"dataset.sampling = 'oversample': uniform .* or balanced"):
        parse_config({"dataset": {"sampling": "oversample"}})

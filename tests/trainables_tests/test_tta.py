"""Flip test-time augmentation: on by default exactly for trials trained with horizontal flips, forced by the
setting either way, and what the validation reports are scored with."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tests.conftest import synthetic_images
from trainables.checkpoint import trained_model
from trainables.data import TrialData
from trainables.loop import TrainSettings, evaluate, run
from trainables.metrics import EpochReport
from trainables.trial_config import parse_trial_config
from trainables.tta import use_flip_tta

MLP = {"family": "mlp", "mlp_layers": 1, "mlp_units_1": 32, "lr": 1e-2, "batch_size": 32, "seed": 3}


@pytest.mark.parametrize("hflip, setting, expected", [
    (0.5, None, True), (0.0, None, False),   # default: on exactly when the trial trained with flips
    (0.5, False, False), (0.0, True, True),  # the setting (search.tta) forces it either way
])
def test_flip_tta_rule(hflip: float, setting: bool | None, expected: bool) -> None:
    assert use_flip_tta(setting, parse_trial_config({**MLP, "aug_hflip": hflip})) is expected


def test_validation_reports_are_scored_with_the_rule() -> None:
    """The same training (TTA never changes it) reports the flip-TTA validation loss by default and the plain
    one when forced off; each equals the loss recomputed from the returned weights."""
    x, y = synthetic_images(200, shape=(1, 8, 8), seed=5)
    data = TrialData(x[:150], y[:150], x[150:], y[150:], [str(i) for i in range(10)], (0.2,), (0.3,))
    config = {**MLP, "aug_hflip": 0.5}
    cfg = parse_trial_config(config)
    xv, yv = torch.from_numpy(data.x_val), torch.from_numpy(np.asarray(data.y_val))
    losses = {}
    for setting in (None, False):
        reports: list[EpochReport] = []
        state = run(config, data, TrainSettings(max_epochs=1, num_threads=1, tta=setting),
                    lambda r, _s, out=reports: out.append(r))
        assert state is not None and state.preprocess is not None
        model = trained_model(config, data.in_shape, data.num_classes, state.model)
        pre = state.preprocess.module()
        expected = evaluate(model, pre, xv, yv, cfg, 10, tta=setting is None)["val_loss"]
        losses[setting] = reports[-1].val_loss
        assert losses[setting] == pytest.approx(expected, rel=1e-6)
    assert losses[None] != pytest.approx(losses[False], rel=1e-4)

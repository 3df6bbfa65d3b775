"""A NaN or infinite loss stops the trial within its epoch and says so."""
from __future__ import annotations

import math

from tests.conftest import synthetic_images
from trainables.data.split import TrialData
from trainables.loop import TrainSettings, run


def data():
    x, y = synthetic_images(256)
    return TrialData(x, y, x[:64], y[:64], [str(i) for i in range(10)], (0.2,), (0.3,))


def reports(config):
    out = []
    run(config, data(), TrainSettings(max_epochs=5), lambda m, s: out.append(m.metrics()))
    return out


def test_nan_loss_stops_in_the_first_epoch():
    out = reports({"family": "mlp", "optimizer": "sgd", "lr": 1e12, "batch_size": 16})
    assert len(out) == 1 and out[0]["diverged"] == 1 and math.isnan(out[0]["train_loss"])


def test_infinite_loss_stops_in_the_first_epoch():
    out = reports({"family": "mlp", "l1": 1e38, "batch_size": 16})  # the L1 penalty overflows float32
    assert len(out) == 1 and out[0]["diverged"] == 1


def test_a_healthy_config_runs_all_epochs():
    out = reports({"family": "mlp", "lr": 1e-3, "batch_size": 32})
    assert [m["epoch"] for m in out] == [1, 2, 3, 4, 5] and not any(m["diverged"] for m in out)

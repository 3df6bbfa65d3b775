"""A fresh trial whose first epoch would outlast `max_epoch_seconds` stops within seconds and says so."""
from __future__ import annotations

import math
import time

import pytest
import torch

from tests.conftest import synthetic_images
from trainables.data.split import TrialData
from trainables.loop import TrainSettings, projected_seconds, run
from trainables.metrics import PROJECTED_EPOCH_SECONDS, STOPPED_BY, TOO_SLOW, StopReason

CNN = {"family": "cnn", "conv_blocks": 2, "filters_1": 32, "filters_2": 64, "convs_per_block": 2, "kernel_size": 5,
       "dense_units": 64, "batch_size": 16}


def data(n: int) -> TrialData:
    x, y = synthetic_images(n)
    return TrialData(x, y, x[:64], y[:64], [str(i) for i in range(10)], (0.2,), (0.3,))


def test_projection_waits_for_the_start_up_then_scales_to_the_whole_pass():
    assert projected_seconds(0.5, 100, 10_000) == 0.0          # too early to judge
    assert projected_seconds(3.0, 1_000, 10_000) == pytest.approx(30.0)
    assert projected_seconds(0.5, 10_000, 10_000) == pytest.approx(0.5)  # a finished pass is its own length


def test_a_trial_over_the_limit_stops_in_its_first_epoch_without_a_checkpoint():
    torch.set_num_threads(1)
    reports: list = []
    t0 = time.perf_counter()
    run(CNN, data(20_000), TrainSettings(max_epochs=3, max_epoch_seconds=4.0),
        lambda report, state: reports.append((report, state)))
    elapsed = time.perf_counter() - t0
    assert len(reports) == 1, reports
    report, state = reports[0]
    assert state is None  # nothing worth keeping
    assert report.stopped_by is StopReason.TOO_SLOW  # said explicitly, not implied by the missing state
    metrics = report.metrics()  # as Ray Tune and the results files see it
    assert metrics[STOPPED_BY] == TOO_SLOW and metrics["epoch"] == 0
    assert metrics[PROJECTED_EPOCH_SECONDS] > 4.0
    assert math.isnan(metrics["val_acc"])
    # it stopped as soon as the projection was trustworthy (2 s of training), not after the whole epoch
    assert elapsed < metrics[PROJECTED_EPOCH_SECONDS] / 2, (elapsed, metrics)


def test_under_the_limit_training_is_unchanged():
    """The check only reads the clock: the same seed gives the same epochs with or without it."""
    def train(limit):
        out = []
        run({"family": "mlp", "lr": 1e-3, "batch_size": 32, "seed": 5}, data(256),
            TrainSettings(max_epochs=2, max_epoch_seconds=limit), lambda m, s: out.append((m.metrics(), s)))
        return out

    limited, free = train(3600.0), train(None)
    assert [m["epoch"] for m, _ in limited] == [1, 2]
    assert [m["train_loss"] for m, _ in limited] == [m["train_loss"] for m, _ in free]
    assert all(torch.equal(limited[-1][1].model[k], v) for k, v in free[-1][1].model.items())


def test_only_the_first_epoch_of_a_fresh_trial_is_timed():
    """A restored trial (past epoch 1) is never stopped as too slow: later epochs slow down with load."""
    first: list = []
    run({"family": "mlp", "lr": 1e-3, "batch_size": 32}, data(256), TrainSettings(max_epochs=1),
        lambda m, s: first.append(s))
    out: list = []
    run({"family": "mlp", "lr": 1e-3, "batch_size": 32}, data(256), TrainSettings(max_epochs=3, max_epoch_seconds=1e-9),
        lambda m, s: out.append(m.metrics()), start=first[0])
    assert [m["epoch"] for m in out] == [2, 3] and not any(STOPPED_BY in m for m in out)

"""The stage ladder: geometric costs, stratified fractions, a fresh schedule spanning each stage, resource
reported at stage ends only, exact resume inside a stage, and no stage started that cannot end in time."""
from __future__ import annotations

import copy
import math
import time

import numpy as np
import pytest

from tests.conftest import synthetic_images
from trainables.checkpoint import TrialState
from trainables.data import ImageData, make_trial_data
from trainables.loop import TrainSettings
from trainables.metrics import EpochReport, StopReason
from trainables.schedules import steps_per_epoch
from trainables.stages import Ladder, Stage, make_ladder, min_stage_cost, run_ladder, stage_data

MLP = {"family": "mlp", "mlp_layers": 1, "mlp_units_1": 32, "mlp_dropout_1": 0.5, "lr": 0.02, "batch_size": 32,
       "schedule": "cosine", "patience": 1, "seed": 4}
LADDER = (Stage(0.5, 1), Stage(0.5, 2), Stage(1.0, 3))


def _data():
    x, y = synthetic_images(400, shape=(1, 12, 12), seed=3)
    return make_trial_data(ImageData("synthetic", x, y, [str(i) for i in range(10)]), 0.25, seed=0)


@pytest.mark.parametrize("top, eta", [(9, 3), (10, 3), (4, 2), (20, 3), (1, 3)])
def test_ladder_costs_grow_by_eta_up_to_the_planned_length(top: int, eta: float) -> None:
    min_cost = min_stage_cost(200_000)  # 1/8 of 200,000 images
    stages = make_ladder(top, eta, min_cost)
    assert stages[-1] == Stage(1.0, top)  # the last stage is the training length the plan chose
    costs = [s.cost for s in stages]
    assert costs[0] >= min_cost - 1e-9 and costs[0] / eta < min_cost  # as cheap as allowed, no cheaper
    assert all(math.isclose(b / a, eta) for a, b in zip(costs, costs[1:]))
    assert all(0 < s.fraction <= 1 and s.epochs >= 1 for s in stages)
    # retraining from scratch at every stage costs at most 1/(eta-1) of the top stage
    assert sum(costs[:-1]) <= top / (eta - 1) + 1e-9


def test_ladder_arguments_and_smallest_stage_are_checked() -> None:
    with pytest.raises(ValueError, match="top_epochs >= 1"):
        make_ladder(0, 3, 0.125)
    assert min_stage_cost(54_000) == pytest.approx(12_800 / 54_000)  # 50 steps of 256 images at the least
    assert min_stage_cost(1000) == 1.0                                # never more than the whole set


def test_stage_data_is_a_stratified_fraction_shared_by_every_trial() -> None:
    data = _data()
    part = stage_data(data, 0.25, seed=0)
    assert len(part.y_train) == pytest.approx(0.25 * len(data.y_train), abs=10)
    full, sub = np.bincount(data.y_train) / len(data.y_train), np.bincount(part.y_train) / len(part.y_train)
    assert np.abs(full - sub).max() < 0.03
    assert np.array_equal(stage_data(data, 0.25, seed=0).y_train, part.y_train)
    assert (part.x_val is data.x_val) and (part.mean, part.std) == (data.mean, data.std)


def _climb(ladder: Ladder, start: TrialState | None = None) -> list[tuple[EpochReport, TrialState | None]]:
    out: list[tuple[EpochReport, TrialState | None]] = []
    run_ladder(MLP, _data(), TrainSettings(max_epochs=99, num_threads=1), ladder,
               lambda r, s: out.append((r, copy.deepcopy(s))), start)
    return out


def test_each_stage_trains_afresh_with_a_schedule_spanning_it_and_reports_resource_at_its_end() -> None:
    ladder = Ladder(LADDER)
    reports = [r for r, _ in _climb(ladder)]
    assert [r.epoch for r in reports] == [1, 2, 3, 4, 5, 6]  # counted on across stages; patience is off
    assert [r.stage for r in reports] == [0, 1, 1, 2, 2, 2]
    assert [r.resource for r in reports] == [0.5, None, 1.5, None, None, 4.5]
    # cosine (stepped per optimizer step, reaching 0 at the last step) over exactly the stage's epochs and
    # images: full rate at each stage's first epoch, then down to its end
    within = [1, 1, 2, 1, 2, 3]
    lengths = [1, 2, 2, 3, 3, 3]
    spe = [steps_per_epoch(round(f * 300), MLP["batch_size"]) for f in (0.5, 0.5, 0.5, 1.0, 1.0, 1.0)]
    expected = [0.02 * (1 + math.cos(math.pi * (i - 1) * k / (n * k - 1))) / 2 for i, n, k in zip(within, lengths, spe)]
    assert [r.lr for r in reports] == pytest.approx(expected)


def test_a_trial_resumed_inside_a_stage_ends_exactly_as_an_uninterrupted_one() -> None:
    ladder = Ladder(LADDER)
    whole = _climb(ladder)
    mid = whole[3][1]  # after the first epoch of the last stage
    assert mid is not None and (mid.stage, mid.epoch) == (2, 1)
    resumed = _climb(ladder, mid)
    assert [r.epoch for r, _ in resumed] == [5, 6]
    assert [r.val_loss for r, _ in resumed] == [r.val_loss for r, _ in whole[4:]]


def test_no_stage_starts_that_cannot_end_before_the_deadline() -> None:
    # planned at 1000 s per full-data epoch: not even the cheapest stage fits the next minute
    [(none, state)] = _climb(Ladder(LADDER, deadline=time.time() + 60, epoch_seconds=1000.0))
    assert none.stopped_by is StopReason.DEADLINE and none.resource is None and state is None
    assert math.isnan(none.val_acc) and none.metrics()["stopped_by"] == "deadline"
    # planned fast enough for the first stage; the trial's own measured speed then decides the rest
    slow_later = Ladder(LADDER, deadline=time.time() + 60, epoch_seconds=0.01)
    assert [r.stage for r, _ in _climb(slow_later)][-1] == 2

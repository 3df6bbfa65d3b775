"""Schedules that know their length: one-cycle and cosine span exactly the planned training (in optimizer
steps, with the trial's actual data size), resume exactly mid-schedule, and per-epoch schedules still work."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from tests.conftest import synthetic_images
from trainables import loop
from trainables.checkpoint import TrialState, load_state, save_state
from trainables.data import TrialData
from trainables.loop import TrainSettings, one_epoch, run, setup
from trainables.schedules import steps_per_epoch, training_steps

LR = 1e-2
# 65 training images in batches of 32: two steps per epoch, the last image alone is skipped (batch norm)
BASE = {"family": "mlp", "mlp_layers": 1, "mlp_units_1": 16, "batch_norm": True, "optimizer": "adamw", "lr": LR,
        "batch_size": 32, "seed": 1}
FINAL_LR = {"onecycle": LR / 25 / 1e4, "cosine": 0.0}  # OneCycleLR's default div factors; cosine anneals to 0


def _data(n_train: int = 65) -> TrialData:
    x, y = synthetic_images(n_train + 20, shape=(1, 8, 8), seed=2)
    return TrialData(x[:n_train], y[:n_train], x[n_train:], y[n_train:], [str(i) for i in range(10)], (0.2,), (0.3,))


def test_steps_per_epoch_counts_the_loops_batches() -> None:
    assert [steps_per_epoch(n, 32) for n in (64, 65, 66, 10)] == [2, 2, 3, 1]


@pytest.mark.parametrize("name, extra", [("onecycle", {}), ("cosine", {"warmup_fraction": 0.25})])
def test_lr_reaches_its_final_value_exactly_at_the_planned_last_step(name: str, extra: dict) -> None:
    """Planned 2 epochs of a max_epochs=5 run (8 steps each): the 16th optimizer step trains at the final rate,
    the 15th above it, and a 3rd epoch (beyond the plan) holds the final rate instead of restarting or failing."""
    data = _data()
    config = {**BASE, "schedule": name, "batch_size": 8, **extra}
    trial = setup(config, data, TrainSettings(max_epochs=5, schedule_epochs=2, num_threads=1))
    used: list[float] = []
    trial.opt.register_step_pre_hook(lambda opt, *_: used.append(opt.param_groups[0]["lr"]))
    for _ in range(3):
        one_epoch(trial)
    planned = 2 * steps_per_epoch(len(data.y_train), 8)
    assert len(used) == 3 * planned / 2 == 24
    assert used[planned - 1] == pytest.approx(FINAL_LR[name], abs=1e-12)
    assert used[planned - 2] > used[planned - 1] + 1e-4
    assert max(used) == pytest.approx(LR)  # the peak is the configured lr
    assert used[planned:] == [used[planned - 1]] * (len(used) - planned)
    if extra:  # cosine's linear warm-up: 4 of 16 planned steps
        assert used[:5] == pytest.approx([LR / 4, LR / 2, 3 * LR / 4, LR, LR])


def test_schedule_length_follows_the_data_size() -> None:
    """The same planned epochs on more images: more steps, and the schedule still ends on the last one."""
    for n in (65, 130):
        trial = setup({**BASE, "schedule": "onecycle"}, _data(n), TrainSettings(max_epochs=1, num_threads=1))
        one_epoch(trial)
        assert trial.sched.last_epoch == steps_per_epoch(n, 32) - 1
        assert trial.opt.param_groups[0]["lr"] == pytest.approx(FINAL_LR["onecycle"], abs=1e-12)


@pytest.mark.parametrize("name", ["onecycle", "cosine"])
def test_resume_mid_schedule_is_exact(name: str, tmp_path: Path) -> None:
    """Epoch 3 after resuming from epoch 1's checkpoint (written to disk and read back) equals an uninterrupted run."""
    config, data = {**BASE, "schedule": name, "mlp_dropout_1": 0.3}, _data()
    settings = TrainSettings(max_epochs=3, num_threads=1)
    straight: list[tuple[float, TrialState | None]] = []
    run(config, data, settings, lambda r, s: straight.append((r.lr, s)))
    first = run(config, data, settings, lambda r, s: None, epochs=1)
    assert first is not None
    save_state(first, tmp_path)
    start = load_state(tmp_path)
    resumed: list[tuple[float, TrialState | None]] = []
    run(config, data, settings, lambda r, s: resumed.append((r.lr, s)), start)
    assert [lr for lr, _ in resumed] == [lr for lr, _ in straight[1:]]
    end, again = straight[-1][1], resumed[-1][1]
    assert end is not None and again is not None and again.schedule == end.schedule
    for k, v in end.model.items():
        assert torch.equal(again.model[k], v), k


def test_per_epoch_schedule_still_steps_once_per_epoch() -> None:
    reports: list[float] = []
    run({**BASE, "schedule": "step", "step_size": 1, "lr_gamma": 0.5}, _data(), TrainSettings(max_epochs=3,
        num_threads=1), lambda r, _s: reports.append(r.lr))
    assert reports == pytest.approx([LR, LR / 2, LR / 4])


@pytest.mark.parametrize("name, extra", [("onecycle", {}), ("cosine", {"warmup_fraction": 0.25})])
@pytest.mark.parametrize("new_epochs", [5, 3, 3.5])
def test_a_run_refitted_mid_way_ends_its_schedule_at_the_new_length(name: str, extra: dict, new_epochs: float,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Planned 4 epochs (8 steps each), refitted after epoch 2 to 5 (stretched), 3 (squeezed) or 3.5 (a
    half pass last): the steps already taken keep their rates, the last step of the new length trains at
    the final rate, the one before it above it, and past the peak the rate only falls (no jump back up)."""
    data, planned = _data(), 4
    config = {**BASE, "schedule": name, "batch_size": 8, **extra}
    settings = TrainSettings(max_epochs=planned, num_threads=1)
    reference = setup(config, data, settings)
    before: list[float] = []
    reference.opt.register_step_pre_hook(lambda opt, *_: before.append(opt.param_groups[0]["lr"]))
    one_epoch(reference), one_epoch(reference)

    used: list[float] = []
    original = loop.setup

    def recorded(*args, **kwargs):  # noqa: ANN002, ANN003 -- the same trial, recording each step's rate
        t = original(*args, **kwargs)
        t.opt.register_step_pre_hook(lambda opt, *_: used.append(opt.param_groups[0]["lr"]))
        return t

    monkeypatch.setattr(loop, "setup", recorded)
    asked: list[tuple[int, int]] = []

    def length(r, epochs: float) -> float:  # noqa: ANN001
        asked.append((r.epoch, epochs))
        return new_epochs if r.epoch == 2 else epochs

    epochs: list[int] = []
    run(config, data, settings, lambda r, _s: epochs.append(r.epoch), length=length)
    per_epoch = steps_per_epoch(len(data.y_train), 8)
    assert epochs == list(range(1, math.ceil(new_epochs) + 1)) and asked[:2] == [(1, planned), (2, planned)]
    assert used[: 2 * per_epoch] == pytest.approx(before)  # the refit changes nothing already trained
    last = training_steps(new_epochs, len(data.y_train), 8)
    assert len(used) == last == int(new_epochs) * per_epoch + (per_epoch // 2 if new_epochs % 1 else 0)
    assert used[last - 1] == pytest.approx(FINAL_LR[name], abs=1e-12)
    assert used[last - 2] > used[last - 1] + 1e-5
    peak = used.index(max(used))
    assert all(b <= a + 1e-12 for a, b in zip(used[peak:], used[peak + 1:])), "past the peak the rate only falls"

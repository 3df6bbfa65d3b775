"""Every configuration a preset can produce builds, runs forward and backward, and gives a finite loss."""
from __future__ import annotations

import math
from collections import Counter

import optuna
import pytest
import torch

from spaces import define_by_run, get_preset, list_presets
from tests.conftest import synthetic_images
from trainables.data.split import TrialData
from trainables.loop import TrainSettings, build, class_weight_tensor, l1_penalty
from trainables.losses import compute_loss
from trainables.schedules import step_schedule
from trainables.trial_config import parse_trial_config

optuna.logging.set_verbosity(optuna.logging.WARNING)
N_CONFIGS = 150
# residual nets cost more per step than the other presets' models; 30 samples still cover every choice
CONFIGS_OF = {"resnet_cpu": 30}


def tiny_data(shape):
    x, y = synthetic_images(4, num_classes=4, shape=shape)
    return TrialData(x, y, x, y, [str(i) for i in range(10)], (0.5,) * shape[0], (0.25,) * shape[0])


@pytest.mark.slow
@pytest.mark.parametrize("preset", [p for p in list_presets() if p != "transfer"])
def test_every_sampled_config_trains_one_step(preset):
    torch.manual_seed(0)
    space = get_preset(preset)
    fn = define_by_run(space, seed_key="seed")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    # small images keep 300 configs x (up to 4 blocks of 512 filters) affordable on 2 CPU cores
    shapes = [(1, 16, 16), (3, 16, 16)]
    datasets = {s: tiny_data(s) for s in shapes}
    seen: dict[str, Counter] = {k: Counter() for k in ("family", "loss", "optimizer", "activation", "schedule")}
    augs: Counter = Counter()
    for i in range(CONFIGS_OF.get(preset, N_CONFIGS)):
        trial = study.ask()
        consts = fn(trial)  # suggests first, so trial.params is filled
        config = {**trial.params, **consts}
        data = datasets[shapes[i % 2]]
        cfg = parse_trial_config(config)
        model, pre, opt, sched = build(cfg, data, TrainSettings(max_epochs=3), torch.device("cpu"))
        model.train()
        gen = torch.Generator().manual_seed(i)
        strengths = dict(cfg.augment)
        x = torch.from_numpy(data.x_train)
        xb = pre(x, strengths, gen)
        assert xb.shape == x.shape and torch.isfinite(xb).all()
        logits = model(xb)
        assert logits.shape == (4, 10)
        weights = class_weight_tensor(data.y_train, 10) if i % 3 == 0 else None
        loss = compute_loss(logits, torch.from_numpy(data.y_train), cfg.loss, weights)
        loss = loss + cfg.l1 * l1_penalty(model)
        assert math.isfinite(loss.item()), config
        opt.zero_grad()
        loss.backward()
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters()), config
        opt.step()
        step_schedule(sched, loss.item())
        study.tell(trial, loss.item())
        for k in seen:
            if k in config:
                seen[k][config[k]] += 1
        augs.update(strengths)
    # the sample really exercised what the preset offers
    for k, counter in seen.items():
        param = next((p for p in space.params if p.name == k), None)
        if param is not None and hasattr(param, "choices"):
            assert set(counter) == set(param.choices), (k, counter)
    aug_params = [p.name.removeprefix("aug_") for p in space.params if p.name.startswith("aug_")]
    assert set(augs) == set(aug_params)

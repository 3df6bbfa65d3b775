"""Fine-tuning policies: frozen means unchanged (weights and batch-norm statistics); last_k trains exactly k stages."""
from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.conftest import synthetic_images
from trainables.checkpoint import TrialState
from trainables.data import ImageData, make_trial_data
from trainables.loop import TrainSettings, build, run
from trainables.models import build_model
from trainables.optimizers import make_optimizer
from trainables.trial_config import parse_trial_config

BACKBONES = ["test_resnet.r160_in1k", "test_efficientnet.r160_in1k", "test_convnext.r160_in1k", "test_vit.r160_in1k"]


def _config(name: str, **kw: Any) -> dict[str, Any]:
    return {"family": "timm", "backbone": name, "pretrained": False, "image_size": 32, "lr": 1e-2, **kw}


def _one_step(cfg: dict[str, Any]) -> tuple[torch.nn.Module, dict[str, torch.Tensor]]:
    """Build, remember every tensor (parameters and buffers), take two Adam steps on a random batch.

    Two, because timm zero-initialises the last norm of residual branches: on the first step the
    convolutions inside such a branch get exactly zero gradient even when they are trainable.
    """
    torch.manual_seed(0)
    model = build_model(cfg, (1, 28, 28), 10)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = parse_trial_config(cfg).optimizer
    opt = make_optimizer(model.param_groups(optimizer.lr), optimizer)
    model.train()
    x, y = torch.randn(8, 1, 28, 28), torch.arange(8) % 10
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return model, before


def _changed(model: torch.nn.Module, before: dict[str, torch.Tensor], prefix: str) -> set[str]:
    return {k for k, v in model.state_dict().items() if k.startswith(prefix) and not torch.equal(v, before[k])}


@pytest.mark.parametrize("name", BACKBONES)
def test_linear_probe_leaves_backbone_unchanged(name: str) -> None:
    model, before = _one_step(_config(name, finetune="linear_probe"))
    assert _changed(model, before, "backbone.") == set()  # weights and BN running stats alike
    assert _changed(model, before, "head.") == {k for k in before if k.startswith("head.")}


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("name", BACKBONES)
def test_last_k_trains_exactly_the_last_k_stages(name: str, k: int) -> None:
    model, before = _one_step(_config(name, finetune="last_k", unfreeze_stages=k))
    stages = model.stages
    assert len(stages) > k
    expected = {"backbone." + n for stage in stages[-k:] for n in stage}
    changed = {n for n in _changed(model, before, "backbone.") if n in {"backbone." + p for s in stages for p in s}}
    assert changed == expected
    # buffers (BN running stats) change only inside the unfrozen stages
    frozen_params = {n for stage in stages[:-k] for n in stage}
    frozen_prefixes = {n.rsplit(".", 1)[0] + "." for n in frozen_params}
    moved_buffers = _changed(model, before, "backbone.") - expected
    assert not any(b.removeprefix("backbone.").startswith(p) for b in moved_buffers for p in frozen_prefixes)


def test_full_trains_every_backbone_parameter_and_lr_mult_sets_groups() -> None:
    cfg = _config("test_resnet.r160_in1k", finetune="full", backbone_lr_mult=0.1)
    model, before = _one_step(cfg)
    params = {"backbone." + n for n, _ in model.backbone.named_parameters()}
    assert params <= _changed(model, before, "backbone.")
    groups = model.param_groups(1e-2)
    assert [g["lr"] for g in groups] == pytest.approx([1e-2, 1e-3])
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))


def test_frozen_warmup_epochs_in_the_training_loop() -> None:
    """finetune: full with one warm-up epoch: epoch 1 leaves the backbone as built, epoch 2 trains it."""
    x, y = synthetic_images(200, shape=(1, 28, 28))
    data = make_trial_data(ImageData("synthetic", x, y, [str(i) for i in range(10)]), 0.2, 0)
    cfg = _config("test_resnet.r160_in1k", finetune="full", frozen_warmup_epochs=1, batch_size=32, seed=3)
    settings = TrainSettings(max_epochs=2, device="cpu")
    torch.manual_seed(3)
    initial, _, _, _ = build(parse_trial_config(cfg), data, settings, torch.device("cpu"))
    states: list[TrialState] = []
    reports: list[dict[str, Any]] = []
    # the state holds live tensors (the Ray adapter saves it at once); copy it as a checkpoint would
    run(cfg, data, settings, lambda m, s: (reports.append(m.metrics()), states.append(copy.deepcopy(s))))
    start = {k: v for k, v in initial.state_dict().items() if k.startswith("backbone.")}
    epoch1, epoch2 = (s.model for s in states)
    assert all(torch.equal(epoch1[k], v) for k, v in start.items())
    assert not all(torch.equal(epoch2[k], v) for k, v in start.items())
    assert not all(torch.equal(epoch1[k], initial.state_dict()[k]) for k in epoch1 if k.startswith("head."))
    # cost metrics are part of every report
    assert all(r["inference_ms"] > 0 and r["param_count"] == sum(p.numel() for p in initial.parameters())
               for r in reports)
    # the timm model normalises with its own stats, not the dataset's
    _, pre, _, _ = build(parse_trial_config(cfg), data, settings, torch.device("cpu"))
    assert pre.mean.flatten().tolist() == pytest.approx(list(initial.data_mean))
    assert not np.allclose(pre.mean.flatten().numpy(), data.mean)

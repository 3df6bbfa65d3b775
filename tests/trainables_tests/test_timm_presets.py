"""Contract over every backbone our presets name: it builds for grayscale 28x28, classifies, and has stages."""
from __future__ import annotations

import pytest
import torch

from spaces import get_preset
from trainables.models import build_model


def _backbones(preset: str) -> list[str]:
    return list(next(p for p in get_preset(preset).params if p.name == "backbone").choices)


@pytest.mark.parametrize("name", sorted(set(_backbones("transfer")) | set(_backbones("full"))))
def test_preset_backbone_builds_and_classifies(name: str) -> None:
    cfg = {"family": "timm", "backbone": name, "pretrained": False, "image_size": 32, "head_hidden": 16,
           "finetune": "last_k", "unfreeze_stages": 1}
    model = build_model(cfg, (1, 28, 28), 10).eval()
    with torch.no_grad():
        assert model(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    assert len(model.stages) >= 3  # a stem and stages to unfreeze from the end
    trained = {n for n, p in model.backbone.named_parameters() if p.requires_grad}
    assert trained == set(model.stages[-1])
    assert len(model.data_mean) == 1 and len(model.data_std) == 1

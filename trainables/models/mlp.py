"""A plain multi-layer perceptron on flattened pixels."""
from __future__ import annotations

from typing import Any

from torch import nn

from ..activations import make_activation
from . import MODELS


@MODELS.register("mlp")
def build_mlp(cfg: dict[str, Any], in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """`mlp_layers` hidden layers of `mlp_units_i` units, each optionally batch-normed, with `mlp_dropout_i`."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_shape[0] * in_shape[1] * in_shape[2]
    for i in range(1, cfg.get("mlp_layers", 2) + 1):
        units = cfg.get(f"mlp_units_{i}", 256)
        layers.append(nn.Linear(width, units))
        if cfg.get("batch_norm", False):
            layers.append(nn.BatchNorm1d(units))
        layers.append(make_activation(cfg.get("activation", "relu")))
        if cfg.get(f"mlp_dropout_{i}", 0.0) > 0:
            layers.append(nn.Dropout(cfg[f"mlp_dropout_{i}"]))
        width = units
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)

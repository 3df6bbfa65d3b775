"""A plain multi-layer perceptron on flattened pixels."""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..activations import make_activation
from . import MODELS, ModelFamily


@dataclass(frozen=True)
class MLPConfig:
    """Knobs of the `mlp` family (defaults and ranges: `trainables.knobs.KNOBS`)."""

    name: str
    mlp_layers: int
    mlp_units: tuple[int, ...]       # one per layer
    mlp_dropout: tuple[float, ...]   # one per layer
    batch_norm: bool
    activation: str


def build_mlp(cfg: MLPConfig, in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """`mlp_layers` hidden layers of `mlp_units[i]` units, each optionally batch-normed, with `mlp_dropout[i]`."""
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_shape[0] * in_shape[1] * in_shape[2]
    for units, dropout in zip(cfg.mlp_units, cfg.mlp_dropout):
        layers.append(nn.Linear(width, units))
        if cfg.batch_norm:
            layers.append(nn.BatchNorm1d(units))
        layers.append(make_activation(cfg.activation))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = units
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


MODELS.register("mlp", ModelFamily(MLPConfig, build_mlp))

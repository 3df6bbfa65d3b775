"""Model builders of a user's own, for the custom-family tests (referenced as `module:function`)."""
from __future__ import annotations

from typing import Any

from torch import nn


def tiny_cnn(config: dict[str, Any], in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """One conv of `width` filters (a user parameter), pooled to 4x4, and a linear head."""
    width = int(config.get("width", 8))
    return nn.Sequential(nn.Conv2d(in_shape[0], width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
                         nn.Flatten(), nn.Linear(width * 16, num_classes))


def raises(config: dict[str, Any], in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    raise RuntimeError(f"no layer fits {in_shape}")


def not_a_module(config: dict[str, Any], in_shape: tuple[int, int, int], num_classes: int) -> Any:
    return "a string, not a model"


def two_args(config, in_shape):  # the mistake under test: no num_classes
    return None

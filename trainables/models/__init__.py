"""Model families by name. A family is `build(config, in_shape, num_classes) -> nn.Module`."""
from __future__ import annotations

from typing import Any, Callable

from torch import nn

from ..registry import Registry

ModelFactory = Callable[[dict[str, Any], tuple[int, int, int], int], nn.Module]
MODELS: Registry[ModelFactory] = Registry("model family")

from . import cnn, lenet, mlp, resnet, timm_family  # noqa: E402,F401  (register the built-in families)
from .pretrained import WeightSources, WeightsUnavailable  # noqa: E402


def build_model(config: dict[str, Any], in_shape: tuple[int, int, int], num_classes: int,
                weights: WeightSources | None = None) -> nn.Module:
    """Build `config["family"]` for inputs of shape (C, H, W).

    Example:
        >>> build_model({"family": "lenet5"}, (1, 28, 28), 10)  # doctest: +ELLIPSIS
        LeNet5(...)
    """
    factory = MODELS.get(config.get("family", "cnn"))
    if weights is not None and getattr(factory, "uses_weights", False):  # families with pretrained weights
        return factory(config, in_shape, num_classes, weights=weights)  # type: ignore[call-arg]
    return factory(config, in_shape, num_classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["MODELS", "WeightSources", "WeightsUnavailable", "build_model", "count_parameters"]

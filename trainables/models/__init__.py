"""Model families by name. A family is `build(config, in_shape, num_classes) -> nn.Module`."""
from __future__ import annotations

from typing import Any, Callable

from torch import nn

from ..registry import Registry

ModelFactory = Callable[[dict[str, Any], tuple[int, int, int], int], nn.Module]
MODELS: Registry[ModelFactory] = Registry("model family")

from . import cnn, lenet, mlp  # noqa: E402,F401  (register the built-in families)


def build_model(config: dict[str, Any], in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """Build `config["family"]` for inputs of shape (C, H, W).

    Example:
        >>> build_model({"family": "lenet5"}, (1, 28, 28), 10)  # doctest: +ELLIPSIS
        LeNet5(...)
    """
    return MODELS.get(config.get("family", "cnn"))(config, in_shape, num_classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["MODELS", "build_model", "count_parameters"]

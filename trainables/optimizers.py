"""Optimizers by name. L2 regularisation is the optimizer's weight decay."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch

from .registry import Registry

OptimizerFactory = Callable[[Iterable[Any], dict[str, Any]], torch.optim.Optimizer]
OPTIMIZERS: Registry[OptimizerFactory] = Registry("optimizer")


def _common(cfg: dict[str, Any]) -> dict[str, Any]:
    return {"lr": cfg.get("lr", 1e-3), "weight_decay": cfg.get("weight_decay", 0.0)}


OPTIMIZERS.register("sgd", lambda p, c: torch.optim.SGD(
    p, momentum=c.get("momentum", 0.0), nesterov=c.get("nesterov", False) and c.get("momentum", 0.0) > 0, **_common(c)))
OPTIMIZERS.register("rmsprop", lambda p, c: torch.optim.RMSprop(p, momentum=c.get("momentum", 0.0), **_common(c)))
OPTIMIZERS.register("adagrad", lambda p, c: torch.optim.Adagrad(p, **_common(c)))
OPTIMIZERS.register("adadelta", lambda p, c: torch.optim.Adadelta(p, **_common(c)))
OPTIMIZERS.register("adam", lambda p, c: torch.optim.Adam(p, **_common(c)))
OPTIMIZERS.register("adamw", lambda p, c: torch.optim.AdamW(p, **_common(c)))
OPTIMIZERS.register("adamax", lambda p, c: torch.optim.Adamax(p, **_common(c)))
OPTIMIZERS.register("nadam", lambda p, c: torch.optim.NAdam(p, **_common(c)))
OPTIMIZERS.register("radam", lambda p, c: torch.optim.RAdam(p, **_common(c)))


def make_optimizer(params: Iterable[Any], config: dict[str, Any]) -> torch.optim.Optimizer:
    """Build `config["optimizer"]` (default adam) over `params` (tensors or param groups)."""
    return OPTIMIZERS.get(config.get("optimizer", "adam"))(params, config)

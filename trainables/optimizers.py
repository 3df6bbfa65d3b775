"""Optimizers by name. L2 regularisation is the optimizer's weight decay."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch

from .registry import Registry


@dataclass(frozen=True)
class OptimizerConfig:
    """The optimizer knobs of a trial (defaults and ranges: `trainables.knobs.KNOBS`)."""

    name: str              # knob `optimizer`
    lr: float
    momentum: float        # sgd, rmsprop
    nesterov: bool         # sgd
    weight_decay: float


OptimizerFactory = Callable[[Iterable[Any], OptimizerConfig], torch.optim.Optimizer]
OPTIMIZERS: Registry[OptimizerFactory] = Registry("optimizer")


def _common(c: OptimizerConfig) -> dict[str, Any]:
    return {"lr": c.lr, "weight_decay": c.weight_decay}


OPTIMIZERS.register("sgd", lambda p, c: torch.optim.SGD(
    p, momentum=c.momentum, nesterov=c.nesterov and c.momentum > 0, **_common(c)))
OPTIMIZERS.register("rmsprop", lambda p, c: torch.optim.RMSprop(p, momentum=c.momentum, **_common(c)))
OPTIMIZERS.register("adagrad", lambda p, c: torch.optim.Adagrad(p, **_common(c)))
OPTIMIZERS.register("adadelta", lambda p, c: torch.optim.Adadelta(p, **_common(c)))
OPTIMIZERS.register("adam", lambda p, c: torch.optim.Adam(p, **_common(c)))
OPTIMIZERS.register("adamw", lambda p, c: torch.optim.AdamW(p, **_common(c)))
OPTIMIZERS.register("adamax", lambda p, c: torch.optim.Adamax(p, **_common(c)))
OPTIMIZERS.register("nadam", lambda p, c: torch.optim.NAdam(p, **_common(c)))
OPTIMIZERS.register("radam", lambda p, c: torch.optim.RAdam(p, **_common(c)))


def make_optimizer(params: Iterable[Any], config: OptimizerConfig) -> torch.optim.Optimizer:
    """Build `config.name` over `params` (tensors or param groups)."""
    return OPTIMIZERS.get(config.name)(params, config)

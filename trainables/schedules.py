"""Learning-rate schedules by name, stepped once per epoch (`plateau` watches val_loss)."""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch.optim import lr_scheduler as S

from .registry import Registry


class _Constant(S.LambdaLR):
    def __init__(self, opt: torch.optim.Optimizer) -> None:
        super().__init__(opt, lambda _: 1.0)


ScheduleFactory = Callable[[torch.optim.Optimizer, dict[str, Any], int], Any]
SCHEDULES: Registry[ScheduleFactory] = Registry("schedule")
SCHEDULES.register("none", lambda o, c, n: _Constant(o))
SCHEDULES.register("step", lambda o, c, n: S.StepLR(o, step_size=c.get("step_size", 3), gamma=c.get("lr_gamma", 0.5)))
SCHEDULES.register("exponential", lambda o, c, n: S.ExponentialLR(o, gamma=c.get("lr_gamma", 0.9)))
SCHEDULES.register("cosine", lambda o, c, n: S.CosineAnnealingLR(o, T_max=max(1, n)))
SCHEDULES.register("plateau", lambda o, c, n: S.ReduceLROnPlateau(
    o, mode="min", factor=c.get("plateau_factor", 0.1), patience=c.get("plateau_patience", 3)))


def make_schedule(optimizer: torch.optim.Optimizer, config: dict[str, Any], max_epochs: int) -> Any:
    """Build `config["schedule"]` (default none) for a run of `max_epochs` epochs."""
    return SCHEDULES.get(config.get("schedule", "none"))(optimizer, config, max_epochs)


def step_schedule(schedule: Any, val_loss: float) -> None:
    """Advance one epoch; ReduceLROnPlateau needs the validation loss, the others do not."""
    if isinstance(schedule, S.ReduceLROnPlateau):
        schedule.step(val_loss)
    else:
        schedule.step()

"""Learning-rate schedules by name, stepped once per epoch (`plateau` watches val_loss)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.optim import lr_scheduler as S

from .registry import Registry


@dataclass(frozen=True)
class ScheduleConfig:
    """The schedule knobs of a trial (defaults and ranges: `trainables.knobs.KNOBS`)."""

    name: str               # knob `schedule`
    step_size: int          # step: epochs between drops
    lr_gamma: float         # step: factor per drop; exponential: factor per epoch
    plateau_factor: float
    plateau_patience: int


class _Constant(S.LambdaLR):
    def __init__(self, opt: torch.optim.Optimizer) -> None:
        super().__init__(opt, lambda _: 1.0)


ScheduleFactory = Callable[[torch.optim.Optimizer, ScheduleConfig, int], Any]
SCHEDULES: Registry[ScheduleFactory] = Registry("schedule")
SCHEDULES.register("none", lambda o, c, n: _Constant(o))
SCHEDULES.register("step", lambda o, c, n: S.StepLR(o, step_size=c.step_size, gamma=c.lr_gamma))
SCHEDULES.register("exponential", lambda o, c, n: S.ExponentialLR(o, gamma=c.lr_gamma))
SCHEDULES.register("cosine", lambda o, c, n: S.CosineAnnealingLR(o, T_max=max(1, n)))
SCHEDULES.register("plateau", lambda o, c, n: S.ReduceLROnPlateau(
    o, mode="min", factor=c.plateau_factor, patience=c.plateau_patience))


def make_schedule(optimizer: torch.optim.Optimizer, config: ScheduleConfig, max_epochs: int) -> Any:
    """Build `config.name` for a run of `max_epochs` epochs."""
    return SCHEDULES.get(config.name)(optimizer, config, max_epochs)


def step_schedule(schedule: Any, val_loss: float) -> None:
    """Advance one epoch; ReduceLROnPlateau needs the validation loss, the others do not."""
    if isinstance(schedule, S.ReduceLROnPlateau):
        schedule.step(val_loss)
    else:
        schedule.step()

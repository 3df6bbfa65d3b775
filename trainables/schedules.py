"""Learning-rate schedules by name, sized to the training length a trial is meant to have.

Per-epoch schedules (`step`, `exponential`, `plateau`, `none`) are stepped after each epoch's
evaluation (`plateau` watches val_loss). Per-step schedules (`onecycle`, `cosine`) are stepped after
every optimizer step and span exactly `ScheduleLength.total_steps`: the learning rate reaches its
final value at the planned last step and holds it should training run longer. Why per step and
sized to the run: a one-cycle or cosine schedule only does its job if it ends when training ends, so
a run planned for 3 epochs gets a 3-epoch schedule, not the first 3 epochs of one written for 20.
"""
from __future__ import annotations

import math
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
    warmup_fraction: float  # onecycle: share of steps rising to the peak; cosine: linear warm-up share


@dataclass(frozen=True)
class ScheduleLength:
    """How long the schedule runs: optimizer steps in all, and per epoch (with the trial's actual data)."""

    total_steps: int
    steps_per_epoch: int

def steps_per_epoch(images: int, batch_size: int) -> int:
    """Optimizer steps in one pass over `images`: the training loop skips a last batch of one image."""
    full, rest = divmod(images, batch_size)
    return max(1, full + (1 if rest >= 2 else 0))


class PerStep:
    """Marks a schedule stepped after every optimizer step (see `attach`), not once per epoch."""


class OneCycle(S.OneCycleLR, PerStep):
    """torch's OneCycleLR that holds its final rate past `total_steps` instead of raising."""

    def step(self, epoch: int | None = None) -> None:
        if self.last_epoch < self.total_steps - 1:
            super().step(epoch)


@dataclass
class WarmupCosineFactor:
    """lr multiplier at a step: linear warm-up to 1 over `warmup` steps, then cosine to 0 at `total - 1`.

    A callable object, not a closure, so LambdaLR's state_dict keeps it (exact resume).
    """

    total: int
    warmup: int

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        t = min(1.0, (step - self.warmup) / max(1, self.total - 1 - self.warmup))
        return 0.5 * (1 + math.cos(math.pi * t))


class WarmupCosine(S.LambdaLR, PerStep):
    def __init__(self, opt: torch.optim.Optimizer, total: int, warmup_fraction: float) -> None:
        super().__init__(opt, WarmupCosineFactor(total, int(round(warmup_fraction * total))))


class _Constant(S.LambdaLR):
    def __init__(self, opt: torch.optim.Optimizer) -> None:
        super().__init__(opt, lambda _: 1.0)


def _one_cycle(opt: torch.optim.Optimizer, c: ScheduleConfig, n: ScheduleLength) -> OneCycle:
    # the peak is each group's own lr (keeps a backbone's lower lr multiple); beta1 cycles for the Adam
    # family as in the fastai recipe, while SGD/RMSprop keep the momentum their knob gave them
    total = max(2, n.total_steps)
    # torch divides by (warm-up steps - 1): a run too short to warm up (<= 1 step of it) starts at the peak
    warmup = c.warmup_fraction if c.warmup_fraction * total > 1 else 0.5 / total
    return OneCycle(opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=total, pct_start=warmup,
                    cycle_momentum="betas" in opt.defaults)


ScheduleFactory = Callable[[torch.optim.Optimizer, ScheduleConfig, ScheduleLength], Any]
SCHEDULES: Registry[ScheduleFactory] = Registry("schedule")
SCHEDULES.register("none", lambda o, c, n: _Constant(o))
SCHEDULES.register("step", lambda o, c, n: S.StepLR(o, step_size=c.step_size, gamma=c.lr_gamma))
SCHEDULES.register("exponential", lambda o, c, n: S.ExponentialLR(o, gamma=c.lr_gamma))
SCHEDULES.register("cosine", lambda o, c, n: WarmupCosine(o, max(1, n.total_steps), c.warmup_fraction))
SCHEDULES.register("onecycle", _one_cycle)
SCHEDULES.register("plateau", lambda o, c, n: S.ReduceLROnPlateau(
    o, mode="min", factor=c.plateau_factor, patience=c.plateau_patience))


def make_schedule(optimizer: torch.optim.Optimizer, config: ScheduleConfig, total_steps: int,
                  steps_per_epoch: int) -> Any:
    """Build `config.name` for a run of `total_steps` optimizer steps (`steps_per_epoch` per epoch).

    A per-step schedule is attached to the optimizer: it advances after every `optimizer.step()`.

    Example:
        >>> sched = make_schedule(opt, cfg.schedule, total_steps=3 * 211, steps_per_epoch=211)  # doctest: +SKIP
    """
    schedule = SCHEDULES.get(config.name)(optimizer, config, ScheduleLength(total_steps, steps_per_epoch))
    if isinstance(schedule, PerStep):
        attach(schedule, optimizer)
    return schedule


def attach(schedule: Any, optimizer: torch.optim.Optimizer) -> None:
    """Step `schedule` after every step of `optimizer` (a step skipped for a non-finite loss does not count)."""
    optimizer.register_step_post_hook(lambda *_: schedule.step())


def step_schedule(schedule: Any, val_loss: float) -> None:
    """Advance one epoch; ReduceLROnPlateau needs the validation loss; per-step schedules advance on their own."""
    if isinstance(schedule, PerStep):
        return
    if isinstance(schedule, S.ReduceLROnPlateau):
        schedule.step(val_loss)
    else:
        schedule.step()

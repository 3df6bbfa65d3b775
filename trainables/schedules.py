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

from ._torch_compat import one_cycle_phases
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


def part_images(fraction: float, images: int) -> int:
    """The images of an epoch cut to `fraction` of a pass (at least a batch of two)."""
    return images if fraction >= 1 else max(2, min(images, round(fraction * images)))


def training_steps(epochs: float, images: int, batch_size: int) -> int:
    """Optimizer steps in `epochs` passes over `images`, the last one partial where `epochs` is fractional."""
    whole, part = int(epochs), epochs - int(epochs)
    rest = steps_per_epoch(part_images(part, images), batch_size) if part > 0 else 0
    return whole * steps_per_epoch(images, batch_size) + rest


class PerStep:
    """Marks a schedule stepped after every optimizer step (see `attach`), not once per epoch."""

    last_epoch: int  # the step the schedule is at (torch's LRScheduler keeps it)

    def planned_steps(self) -> int:
        """The steps the schedule spans now."""
        raise NotImplementedError

    def resize(self, total_steps: int) -> None:
        """Span `total_steps` in all from now on (see `resize_schedule`)."""
        raise NotImplementedError


def stretched(point: float, now: int, old_total: int, new_total: int) -> float:
    """Where a schedule step `point` lies once the rest of a run, from step `now`, is stretched from
    `old_total` steps in all to `new_total`: points already passed stay where they were."""
    if point <= now:
        return point
    return now + (point - now) * (new_total - 1 - now) / max(old_total - 1 - now, 1)


class OneCycle(S.OneCycleLR, PerStep):
    """torch's OneCycleLR that holds its final rate past `total_steps` instead of raising."""

    def step(self, epoch: int | None = None) -> None:
        if self.last_epoch < self.total_steps - 1:
            super().step(epoch)

    def planned_steps(self) -> int:
        return self.total_steps

    def resize(self, total_steps: int) -> None:
        # torch keeps the phase ends privately (trainables/_torch_compat.py). Phases still to come are stretched;
        # for the one under way, the end of the phase before it (a start already passed) moves so that the
        # current step keeps its place in the phase: the rate goes on from where it is. A phase has no
        # earlier end to move in the first phase (the warm-up), where the rate dips and climbs again.
        now, phases = self.last_epoch, one_cycle_phases(self)
        ends = [p["end_step"] for p in phases]
        current = next((i for i, e in enumerate(ends) if now <= e), len(ends) - 1)
        start = ends[current - 1] if current else 0.0
        done = (now - start) / max(ends[current] - start, 1e-9)
        for phase in phases:
            phase["end_step"] = stretched(phase["end_step"], now, self.total_steps, total_steps)
        if current and done < 1:
            phases[current - 1]["end_step"] = (now - done * phases[current]["end_step"]) / (1 - done)
        self.total_steps = total_steps


@dataclass
class WarmupCosineFactor:
    """lr multiplier at a step: linear warm-up to 1 over `warmup` steps, then cosine to 0 at `total - 1`.

    A callable object, not a closure, so LambdaLR's state_dict keeps it (exact resume). A resize after the
    warm-up re-anchors the cosine at the current step (`anchor`, `anchor_t`): the rate goes on from where
    it is and reaches 0 at the new last step.
    """

    total: int
    warmup: int
    anchor: int | None = None    # the step a resize re-anchored the cosine at; None: the warm-up's end
    anchor_t: float = 0.0        # how far along the cosine (0..1) the anchor step was

    def progress(self, step: int) -> float:
        start = self.warmup if self.anchor is None else self.anchor
        return min(1.0, self.anchor_t + (1 - self.anchor_t) * (step - start) / max(1, self.total - 1 - start))

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        return 0.5 * (1 + math.cos(math.pi * self.progress(step)))

    def resize(self, now: int, total: int) -> None:
        if now < self.warmup:  # still warming up: the warm-up's end moves with the rest of the run
            self.warmup = int(round(stretched(self.warmup, now, self.total, total)))
        else:
            self.anchor_t, self.anchor = self.progress(now), now
        self.total = total


class WarmupCosine(S.LambdaLR, PerStep):
    def __init__(self, opt: torch.optim.Optimizer, total: int, warmup_fraction: float) -> None:
        super().__init__(opt, WarmupCosineFactor(total, int(round(warmup_fraction * total))))

    def planned_steps(self) -> int:
        factor = self.lr_lambdas[0]
        assert isinstance(factor, WarmupCosineFactor)
        return factor.total

    def resize(self, total_steps: int) -> None:
        for f in self.lr_lambdas:
            assert isinstance(f, WarmupCosineFactor)
            f.resize(self.last_epoch, total_steps)


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


def resize_schedule(schedule: Any, total_steps: int) -> bool:
    """Make a per-step schedule end at `total_steps` instead (a run lengthened or shortened while it trains,
    e.g. a final training fitted to a deadline): the steps already taken keep their rates and the rest of
    the curve is stretched or squeezed to end there. False when it cannot: a schedule that has already
    reached its end is not restarted. Per-epoch schedules do not depend on the length (True)."""
    if not isinstance(schedule, PerStep):
        return True
    if schedule.last_epoch >= schedule.planned_steps() - 1:
        return False
    schedule.resize(max(2, total_steps))
    return True


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

"""Staged fidelities: a trial trains a ladder of ever costlier trainings, each one complete in itself.

Stage k trains a FRESH model on a stratified fraction f_k of the training images for e_k epochs, with a
schedule spanning exactly those e_k epochs, then reports its validation metrics and `resource`: the cost
spent so far in full-data epochs (the sum of f_j * e_j up to k). An ASHA scheduler whose time attribute
is `resource` (milestones at the stage costs) stops weak trials between stages. So a rung's value is what
a training of that length really reaches, never epoch k of a schedule written for many more epochs.

Stage costs grow by the reduction factor eta, so retraining from scratch at each stage costs at most
1/(eta-1) of the top stage (a geometric series): half of it at eta = 3, all of it at eta = 2.

    ladder = make_ladder(top_epochs=9, eta=3, min_cost=0.1)   # costs 1/9, 1/3, 1, 3, 9 full-data epochs
    run_ladder(config, data, settings, ladder, report)
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .checkpoint import TrialState
from .data import TrialData
from .data.split import stratified_subset
from .loop import Report, TrainSettings, run
from .metrics import EpochReport, StopReason

# The cheapest stage takes at least 50 optimizer steps at batch 256: benchmarks/fidelity_rank.py found every
# stage of 12 or fewer steps at chance accuracy (10%) for the resnet_cpu preset, so it ranks nothing.
MIN_STAGE_IMAGES = 12_800
MIN_STAGE_FRACTION = 1 / 8


@dataclass(frozen=True)
class Stage:
    """One rung of the ladder: `epochs` epochs on `fraction` of the training images."""

    fraction: float
    epochs: int

    @property
    def cost(self) -> float:
        """Full-data epochs this stage costs."""
        return self.fraction * self.epochs


@dataclass(frozen=True)
class Ladder:
    """The stages every trial climbs, and the deadline no stage may run past."""

    stages: tuple[Stage, ...]
    deadline: float | None = None          # time.time() after which nothing runs; None: no deadline
    epoch_seconds: float = 0.0             # planned seconds per full-data training epoch (until a trial measures)
    eval_seconds: float = 0.0              # planned seconds per validation pass

    @property
    def total_epochs(self) -> int:
        return sum(s.epochs for s in self.stages)

    def resource(self, k: int) -> float:
        """Full-data epochs spent once stage k has ended (every stage retrains from scratch)."""
        return sum(s.cost for s in self.stages[:k + 1])

    def epoch_offset(self, k: int) -> int:
        """Epochs trained before stage k starts: reported epochs count on across stages."""
        return sum(s.epochs for s in self.stages[:k])

    def stage_seconds(self, k: int, epoch_seconds: float | None = None, eval_seconds: float | None = None) -> float:
        """Projected seconds of stage k, at the trial's measured speed when given, else the planned one."""
        s = self.stages[k]
        train = self.epoch_seconds if epoch_seconds is None else epoch_seconds
        evaluate = self.eval_seconds if eval_seconds is None else eval_seconds
        return s.epochs * (s.fraction * train + evaluate)

    def to_dict(self) -> dict[str, Any]:
        return {"stages": [{"fraction": s.fraction, "epochs": s.epochs, "cost": s.cost} for s in self.stages],
                "deadline": self.deadline, "epoch_seconds": self.epoch_seconds, "eval_seconds": self.eval_seconds}


def min_stage_cost(train_images: int) -> float:
    """The cheapest stage's cost: one epoch on 1/8 of the images, or on MIN_STAGE_IMAGES when that is more."""
    return min(1.0, max(MIN_STAGE_FRACTION, MIN_STAGE_IMAGES / max(train_images, 1)))


def make_ladder(top_epochs: int, eta: float, min_cost: float) -> tuple[Stage, ...]:
    """Stages whose costs are top_epochs / eta^j, cheapest first, down to the last one >= `min_cost`.

    A cost c >= 1 is ceil(c) epochs on c / ceil(c) of the images; a cost below 1 is one epoch on c of them.
    """
    if top_epochs < 1 or eta <= 1 or not 0 < min_cost <= 1:
        raise ValueError(f"make_ladder needs top_epochs >= 1, eta > 1, 0 < min_cost <= 1; got "
                         f"{top_epochs}, {eta}, {min_cost}")
    costs, c = [], float(top_epochs)
    while c >= min_cost * (1 - 1e-9):
        costs.append(c)
        c /= eta
    return tuple(_stage(c) for c in reversed(costs))


def _stage(cost: float) -> Stage:
    epochs = max(1, math.ceil(cost - 1e-9))
    return Stage(min(1.0, cost / epochs), epochs)


def stage_data(data: TrialData, fraction: float, seed: int) -> TrialData:
    """`fraction` of the training images, stratified by class; the same images for every trial of a search."""
    if fraction >= 1:
        return data
    keep = stratified_subset(data.y_train, max(2, round(fraction * len(data.y_train))), seed)
    return replace(data, x_train=np.ascontiguousarray(data.x_train[keep]), y_train=data.y_train[keep])


@dataclass
class _Speed:
    """The trial's own measured speed: seconds per full-data training epoch, and per validation pass."""

    epoch_seconds: float | None = None
    eval_seconds: float | None = None

    def update(self, r: EpochReport, train_images: int, fraction: float) -> None:
        if r.samples_per_second > 0 and r.epoch_seconds is not None:
            self.epoch_seconds = train_images / r.samples_per_second
            self.eval_seconds = max(0.0, r.epoch_seconds - fraction * self.epoch_seconds)


def run_ladder(config: dict[str, Any], data: TrialData, settings: TrainSettings, ladder: Ladder, report: Report,
               start: TrialState | None = None) -> TrialState | None:
    """Train `config` through the ladder's stages, calling `report` after every epoch; returns the last state.

    Reports carry the epoch counted across stages, the stage, and on a stage's last epoch `resource`.
    `start` (a reported state) continues inside its stage exactly (see `loop.run`). A stage that cannot
    end before `ladder.deadline` at the trial's own measured speed is not started: the trial ends there.
    The trial's own early stopping (`patience`) is off: the ladder decides how long a trial trains.
    """
    config = {**config, **({"patience": 0} if "patience" in config else {})}
    speed, last = _Speed(), start
    first = start.stage if start else 0
    for k in range(first, len(ladder.stages)):
        if ladder.deadline is not None and \
                time.time() + ladder.stage_seconds(k, speed.epoch_seconds, speed.eval_seconds) > ladder.deadline:
            if k == first and start is None:  # Ray Tune needs one result from every trial: say why none came
                report(EpochReport(0, 0.0, 0, stage=k, stopped_by=StopReason.DEADLINE), None)
            break
        ended, last = _run_stage(config, data, settings, ladder, k, report, speed,
                                 last if last is not None and last.stage == k else None)
        if ended:
            break
    return last


def _run_stage(config: dict[str, Any], data: TrialData, settings: TrainSettings, ladder: Ladder, k: int,
               report: Report, speed: _Speed, start: TrialState | None) -> tuple[bool, TrialState | None]:
    """Stage k from scratch (or from `start`, inside it): (whether the trial ended itself, the last state)."""
    stage, offset, ended = ladder.stages[k], ladder.epoch_offset(k), False
    part = stage_data(data, stage.fraction, settings.seed)
    stage_settings = replace(settings, max_epochs=stage.epochs, schedule_epochs=stage.epochs)

    def stage_report(r: EpochReport, state: TrialState | None) -> None:
        nonlocal ended
        ended = r.stopped_by is not None
        speed.update(r, len(data.y_train), len(part.y_train) / len(data.y_train))
        done = r.epoch == stage.epochs and not r.diverged
        report(replace(r, epoch=offset + r.epoch, stage=k, resource=ladder.resource(k) if done else None),
               replace(state, stage=k) if state is not None else None)

    last = run(config, part, stage_settings, stage_report, start)
    return ended or last is None, (replace(last, stage=k) if last is not None else None)

"""Plan a time-budgeted search: how much of `budget.time_budget_s` goes to exploring, to the final training
of the winner, and to its test evaluation, from the measured speed of the warm-start configuration.

    remaining = budget - start-up already spent
    reserve   = Ray's shutdown + a safety margin;  evaluation = the test evaluation + the bundle
    final     = E epochs on train+validation, E the largest length (<= max_final_epochs) whose final training
                fits budget.final_share (FINAL_SHARE) of what is left, while a stage ladder still fits the rest
    explore   = the rest: ASHA over the stage ladder whose top stage is E / eta epochs on the training images,
                or the longest shorter one that LADDER_CLIMBS trials can climb (with the trials that run at
                once, after their worker started) in the exploration time

The top stage is a complete training eta times shorter than the final one: were it as long, two climbs
of the ladder would cost twice the final training, and the final could never have more than a third of
the budget (the 10-minute example then trained its winner for 5-9 epochs: benchmarks/real_compute.py).

The parts sum to the budget exactly (start-up + explore + final + evaluation + reserve == budget).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from analysis.errors import ExperimentError
from trainables.stages import Stage, make_ladder, min_stage_cost

FINAL_SHARE = 1 / 2        # default of budget.final_share: of the time left after start-up and reserve, at most,
                           # for the final training
# (1/3 gave the 10-minute example a 5-epoch final and 91.4% test: benchmarks/real_compute.py, docs/performance.md)
LADDER_CLIMBS = 2          # exploration must let at least this many trials climb the whole ladder
TUNE_EXIT_S = 3.0          # Ray Tune stopping its trials and returning after the exploration deadline
TRIAL_START_S = 5.0        # a trial's first start: Ray starts a worker process, which imports torch
BUNDLE_S = 1.0             # writing the bundle and the test predictions
MARGIN = 0.02              # of the budget: kept back for the unforeseen (load from other processes)


class PlanError(ExperimentError):
    """The time budget cannot pay for a search and a final training; the message says what it would take."""


@dataclass(frozen=True)
class Throughput:
    """Measured speed of the warm-start configuration (seconds), and the sizes it scales to."""

    epoch_seconds: float        # one training epoch on the training images, on one trial's resources
    eval_seconds: float         # one pass over the validation images
    final_epoch_seconds: float  # one training epoch on train+validation, as the final training runs it
    train_images: int
    val_images: int
    test_images: int
    concurrency: int            # trials that run at once
    final_threads: int = 1      # CPU threads the final training runs with (the faster measured)

    @property
    def test_seconds(self) -> float:
        return self.eval_seconds * self.test_images / max(self.val_images, 1)


@dataclass(frozen=True)
class BudgetPlan:
    """Where the time goes (seconds from the start of the run); the parts sum to `budget_s`."""

    budget_s: float
    startup_s: float           # already spent when the plan was made: data, Ray, measuring
    explore_s: float           # ASHA over the stages (Tune's time_budget_s)
    final_s: float             # the final training on train+validation
    evaluation_s: float        # the test evaluation and the bundle
    reserve_s: float           # Ray's shutdown and the safety margin
    final_epochs: int
    eta: float
    stages: tuple[Stage, ...]

    @property
    def ladder_cost(self) -> float:
        """Full-data epochs one trial spends climbing every stage."""
        return sum(s.cost for s in self.stages)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["stages"] = [{"fraction": s.fraction, "epochs": s.epochs, "cost": s.cost} for s in self.stages]
        return d


def ladder_seconds(stages: tuple[Stage, ...], tp: Throughput) -> float:
    """Seconds one trial takes to climb `stages`: every stage retrains, and validates after every epoch."""
    return sum(s.epochs * (s.fraction * tp.epoch_seconds + tp.eval_seconds) for s in stages)


def plan_budget(budget_s: float, startup_s: float, tp: Throughput, eta: float,
                max_final_epochs: int = 50, final_share: float = FINAL_SHARE) -> BudgetPlan:
    """The plan for `budget_s` seconds, `startup_s` of which are spent already; PlanError when nothing fits.

    `final_share` caps the final training's part of the usable time (the rest explores).

    Example:
        >>> plan_budget(600, 10, Throughput(20, 2, 25, 54000, 6000, 10000, 2), eta=3).final_epochs  # doctest: +SKIP
    """
    evaluation = tp.test_seconds + BUNDLE_S
    reserve = TUNE_EXIT_S + MARGIN * budget_s
    usable = budget_s - startup_s - evaluation - reserve
    min_cost = min_stage_cost(tp.train_images)
    best = None
    for epochs in range(1, max_final_epochs + 1):
        final = epochs * tp.final_epoch_seconds
        stages = fitting_ladder(epochs, usable - final, tp, eta, min_cost)
        if final > final_share * usable or stages is None:
            break
        best = (epochs, final, stages)
    if best is None:
        raise PlanError(_too_small(budget_s, startup_s, tp, evaluation, reserve, eta, min_cost, final_share))
    epochs, final, stages = best
    return BudgetPlan(budget_s, startup_s, usable - final, final, evaluation, reserve, epochs, eta, stages)


def fitting_ladder(final_epochs: int, explore_s: float, tp: Throughput, eta: float,
                   min_cost: float) -> tuple[Stage, ...] | None:
    """The ladder with the longest top stage, at most `top_stage_epochs(final_epochs)`, that LADDER_CLIMBS
    trials can climb in `explore_s` seconds; None when not even a one-epoch top stage fits."""
    for top in range(top_stage_epochs(final_epochs, eta), 0, -1):
        stages = make_ladder(top, eta, min_cost)
        if explore_s >= _explore_needed(ladder_seconds(stages, tp), tp.concurrency):
            return stages
    return None


def top_stage_epochs(final_epochs: int, eta: float) -> int:
    """Epochs of the ladder's top stage (all the training images) for a final training of `final_epochs`."""
    return max(1, round(final_epochs / eta))


def _explore_needed(climb: float, concurrency: int) -> float:
    """Seconds of exploration that let LADDER_CLIMBS trials climb the whole ladder (and one at the least)."""
    return TRIAL_START_S + max(climb, LADDER_CLIMBS * climb / concurrency)


def _too_small(budget_s: float, startup_s: float, tp: Throughput, evaluation: float, reserve: float, eta: float,
               min_cost: float, final_share: float) -> str:
    """What the smallest plan (a final training of one epoch) would need, part by part."""
    climb = ladder_seconds(make_ladder(1, eta, min_cost), tp)
    explore = _explore_needed(climb, tp.concurrency)
    final = tp.final_epoch_seconds
    need = startup_s + evaluation + reserve + max(final / final_share, final + explore)
    return (f"budget.time_budget_s = {budget_s:g} s is too small to search and train anything: start-up took "
            f"{startup_s:.0f} s, one epoch of the warm-start configuration takes {tp.epoch_seconds:.1f} s "
            f"({tp.final_epoch_seconds:.1f} s on train+validation for the final training), the test evaluation "
            f"and bundle {evaluation:.1f} s, Ray's shutdown and the margin {reserve:.1f} s, and exploring the "
            f"shortest stage ladder {explore:.1f} s. Give at least {math.ceil(need * 1.1)} s, or use a smaller "
            "model or dataset (dataset.train_subset)")

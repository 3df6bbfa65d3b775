"""`hpsearch run` with time as the budget: plan, explore over stages, train the winner, test it once, account.

    measure the warm start's speed -> plan (search.budget_plan) -> ASHA over the stage ladder until the
    exploration deadline -> the winner retrained on train+validation for the time left, its length fitted
    to the budget's end as it trains (analysis.final.fit_to_deadline)
    -> one test evaluation and a bundle in <experiment>/final -> the time account (analysis.time_account)

The budget counts from the start of `prepare` (loading the data) to the bundle written.
"""
from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import replace
from typing import Any

import numpy as np

from analysis.evaluate import evaluation_seconds, flip_tta_for
from analysis.experiment_data import ExperimentData, settings_for
from analysis.final import MAX_FITTED_EPOCHS, final_model, trial_config
from analysis.final import WATCH_IMAGES as FINAL_WATCH_IMAGES
from analysis.layout import FINAL_DIR
from analysis.load import load_experiment
from analysis.run_log import LAUNCH
from analysis.time_account import TimeAccount, search_split, write_time_account
from trainables.stages import Ladder

from .budget_plan import BUNDLE_S, MARGIN, BudgetPlan, Throughput, plan_budget
from .config import ExperimentConfig
from .experiment_dir import save_experiment_files
from .launch import Prepared, _fit, build_tuner, start_new
from .run_record import recorded_run
from .throughput import measure_throughput, step_seconds
from .winner import staged_winner

log = logging.getLogger("hpsearch")
EVAL_SAMPLE = 1024      # test images (one evaluation batch, no labels) the test evaluation's speed is timed on
TRIAL_CAP = 100_000   # "as many trials as the time allows" where a number is needed (display, run log)


def trial_slots(cfg: ExperimentConfig) -> int:
    """Trials that run at once: the cluster's CPUs over each trial's, within resources.max_concurrent."""
    import ray

    cpus = float(ray.cluster_resources().get("CPU", 1))
    slots = max(1, int(cpus // cfg.resources.cpus_per_trial))
    return min(slots, cfg.resources.max_concurrent or slots)


def planned_config(cfg: ExperimentConfig, plan: BudgetPlan, explore_s: float | None = None) -> ExperimentConfig:
    """The config the search runs with: `max_epochs` the ladder's epochs (a trial that climbed it all is
    complete), no trial count; with `explore_s`, that as its time budget (the run log of the search part)."""
    out = copy.deepcopy(cfg)
    out.budget.max_epochs = sum(s.epochs for s in plan.stages)
    out.budget.grace_period = 1
    out.budget.num_samples = TRIAL_CAP
    if explore_s is not None:
        out.budget.time_budget_s = explore_s
    return out


def run_timed(prep: Prepared, verbose: bool = False, callbacks: list | None = None) -> str:
    """Run a time-budgeted experiment end to end; returns its folder. PlanError when the budget is too small."""
    cfg = prep.cfg
    budget = float(cfg.budget.time_budget_s or 0)
    start_new(prep, verbose)
    tp = measure_throughput(cfg, prep.space, prep.loaded, prep.test_images, trial_slots(cfg))
    plan = plan_budget(budget, time.time() - prep.started, tp, cfg.budget.reduction_factor,
                       final_share=cfg.budget.final_share)
    deadline = prep.started + plan.startup_s + plan.explore_s
    ladder = Ladder(plan.stages, deadline, tp.epoch_seconds, tp.eval_seconds)
    run = replace(prep, cfg=planned_config(cfg, plan))
    save_experiment_files(prep.path, run.cfg.to_dict(), prep.space)
    account = TimeAccount(budget, _planned(plan), plan={**plan.to_dict(), "throughput": vars(tp)})
    write_time_account(prep.path, account)
    searching = time.time()
    with recorded_run(prep.path, LAUNCH, planned_config(cfg, plan, deadline - searching)) as record:
        record(_fit(build_tuner(run, verbose, callbacks, ladder), run))
    spent = {"startup": searching - prep.started}
    searched = min(time.time() - searching, max(0.0, deadline - searching))  # Ray's stopping after it: overhead
    spent["exploring"], spent["promoting"] = search_split(load_experiment(prep.path).epochs, searched)
    _final(prep, plan, tp, account, spent)
    return prep.path


def _planned(plan: BudgetPlan) -> dict[str, float]:
    return {"startup": plan.startup_s, "search": plan.explore_s, "final": plan.final_s,
            "evaluation": plan.evaluation_s, "reserve": plan.reserve_s}


def _final(prep: Prepared, plan: BudgetPlan, tp: Throughput, account: TimeAccount, spent: dict[str, float]) -> None:
    """Retrain the winner for what is left of the budget, test it, account."""
    t0 = time.time()
    winner, why = staged_winner(prep.path, prep.space, prep.cfg.search.prior_margin)
    epochs, evaluation = _final_plan(prep, plan, tp, winner)
    assert prep.test is not None  # load_data gives every dataset a test set
    data = ExperimentData(prep.loaded, prep.test[0], np.asarray(prep.test[1]), settings_for(prep.cfg))
    # the length is fitted to this deadline as the epochs are trained (analysis.final.fit_to_deadline)
    deadline = _final_deadline(prep, plan, evaluation)
    done = final_model(prep.path, prep.path + "/" + FINAL_DIR, trial_id=winner, epochs=epochs,
                       num_threads=tp.final_threads, progress=None, data=data, deadline=deadline)
    account.wall_s = time.time() - prep.started
    spent["final"] = time.time() - t0 - done.seconds["evaluation"]
    spent["evaluation"] = done.seconds["evaluation"]
    spent["overhead"] = account.wall_s - sum(spent.values())
    account.spent = spent
    account.final = {"trial_id": winner, "chosen": why, "epochs": done.epochs, "planned_epochs": plan.final_epochs,
                     "first_estimate_epochs": epochs, "evaluation_estimate_s": evaluation,
                     "test_acc": float(done.evaluation.metrics.summary()["accuracy"]), "bundle": str(done.bundle)}
    write_time_account(prep.path, account)


def _final_deadline(prep: Prepared, plan: BudgetPlan, evaluation: float) -> float:
    """When the final training must end (a time.time()): the budget's end less the test evaluation and a
    quarter of the margin."""
    return prep.started + plan.budget_s - evaluation - MARGIN * plan.budget_s / 4


def _final_plan(prep: Prepared, plan: BudgetPlan, tp: Throughput, winner: str) -> tuple[int, float]:
    """(epochs, seconds of the test evaluation and bundle): the winner's own speed, measured now (the machine
    is free of trials), against what is left. The epochs are a first estimate only: the final training refits
    its length to the deadline after each epoch, at the speed it actually trains (a few timed steps misjudge
    a whole epoch by up to a third)."""
    epoch_s, evaluation = final_costs(prep, trial_config(load_experiment(prep.path), winner), tp.final_threads)
    left = _final_deadline(prep, plan, evaluation) - time.time()
    epochs = max(1, min(MAX_FITTED_EPOCHS, math.floor(left / epoch_s)))
    if epochs < plan.final_epochs:
        log.warning("final training shortened to %d of %d planned epochs: %.0f s left", epochs, plan.final_epochs, left)
    return epochs, evaluation


def final_costs(prep: Prepared, config: dict[str, Any], threads: int) -> tuple[float, float]:
    """(seconds per epoch on train+validation, seconds of the test evaluation and bundle) of `config` trained
    as a final model on `threads` threads of this machine, timed now on a few steps."""
    settings = replace(settings_for(prep.cfg), num_threads=threads, max_epoch_seconds=None)
    per_image, per_val = step_seconds(config, prep.loaded, settings)
    epoch_s = per_image * (len(prep.loaded.y_train) + len(prep.loaded.y_val)) + per_val * FINAL_WATCH_IMAGES
    assert prep.test is not None
    evaluation = BUNDLE_S + evaluation_seconds(config, prep.loaded.in_shape, prep.loaded.num_classes,
                                               prep.test_images, flip_tta_for(config, settings),
                                               prep.test[0][:EVAL_SAMPLE])
    return epoch_s, evaluation

"""`hpsearch final`: retrain the best configuration on train+validation, evaluate once on test, export a bundle.

The test set is touched here only, after selection: the configuration and its epoch count both
come from validation scores.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from trainables.checkpoint import TrialState, trained_model
from trainables.data import TrialData
from trainables.data.split import channel_stats
from trainables.loop import Length, run
from trainables.metrics import EpochReport
from trainables.preprocess import Normalisation

from .bundle import PREDICTIONS, save_bundle
from .errors import ExperimentError as LaunchError
from .evaluate import TestEvaluation, evaluate_model, flip_tta_for
from .experiment_data import ExperimentData, load_experiment_data
from .leaderboard import leaderboard
from .load import Experiment, load_experiment
from .location import as_path, output_folder
from .outcome import INFEASIBLE
from .pick import parse_pick, pick_trial
from .progress import Progress, stderr_progress

WATCH_IMAGES = 256   # validation images the retraining reports on after each epoch (they do not steer it)


@dataclass
class FinalModel:
    bundle: Path
    trial_id: str
    epochs: float  # fitted to a deadline: the last pass may be partial
    config: dict[str, Any]
    evaluation: TestEvaluation
    seconds: dict[str, float] = field(default_factory=dict)  # "training" (data loading included), "evaluation"


def ranked_trials(exp: Experiment, by: str = "best") -> pd.DataFrame:
    """Leaderboard rows with a finite score (errored, infeasible and never-reported trials cannot be chosen)."""
    board = leaderboard(exp, by=by)
    return board[board["ended"] != INFEASIBLE].dropna(subset=[exp.metric]) if not board.empty else board


def trial_config(exp: Experiment, trial_id: str) -> dict[str, Any]:
    """The exact config Ray passed to the trial (its params.json), seed included."""
    row = exp.trials.set_index("trial_id").loc[trial_id]
    params = as_path(row["trial_dir"]) / "params.json" if row["trial_dir"] else None
    if params is not None and params.is_file():
        return json.loads(params.read_text())
    return {c.removeprefix("config/"): v for c, v in row.items()
            if c.startswith("config/") and not (isinstance(v, float) and math.isnan(v))}


def check_final_choice(trial_id: str | None, pick: str | None) -> None:
    """One way to choose the trial; a bad rule is refused before anything is loaded or written."""
    if trial_id is not None and pick is not None:
        raise LaunchError("give --trial or --pick, not both")
    if pick is not None:
        parse_pick(pick)


def normalisation(x: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean/std in [0, 1] units, as `make_trial_data` computes them."""
    return channel_stats(x)


@dataclass
class Retrained:
    """A model retrained for a fixed number of epochs, with the preprocessing its trial decided."""

    model: torch.nn.Module
    preprocess: Normalisation
    reports: list[EpochReport]
    epochs: float  # what it trained: fewer than planned if it diverged, a partial last pass if fitted to a deadline


MAX_FITTED_EPOCHS = 200  # a training fitted to a deadline (see `fit_to_deadline`) never has more epochs than this
MIN_PART = 0.1  # the smallest partial last pass `fit_to_deadline` plans


def fit_to_deadline(deadline: float, say: Progress, label: str) -> Length:
    """A training length that ends by `deadline` (a time.time()) at the speed training actually runs: after
    every epoch, as much more training as fits into what is left at the median time of the last three
    epochs (one slow epoch, a pause of the machine, must not end the training early), a partial last pass
    included (at least MIN_PART of one: a sliver would cost a validation pass for nothing); the schedule is
    resized to match (`trainables.loop.refit`). Whole epochs alone left up to one epoch of the budget unused."""
    recent: list[float] = []

    def length(r: EpochReport, planned: float) -> float:
        recent[:] = [*recent[-2:], max(r.epoch_seconds or 0.0, 1e-3)]
        per_epoch = float(np.median(recent))
        more = max(0.0, deadline - time.time()) / per_epoch
        whole, part = divmod(more, 1.0)
        epochs = min(MAX_FITTED_EPOCHS, r.epoch + whole + (round(part, 2) if part >= MIN_PART else 0.0))
        if epochs != planned:
            say(f"{label}: {epochs:g} epochs in all instead of {planned:g}: {deadline - time.time():.0f}s left "
                f"at {per_epoch:.1f}s per epoch")
        return epochs
    return length


def train_fixed(config: dict[str, Any], train_x: np.ndarray, train_y: np.ndarray, watch_x: np.ndarray,
                watch_y: np.ndarray, base: ExperimentData, epochs: int, label: str, say: Progress,
                deadline: float | None = None) -> Retrained:
    """Train `config` for exactly `epochs` epochs (schedule horizon as in the search).

    `watch_x/y` is what `run` reports validation metrics on; it never influences training here
    (the trial's own early stopping is switched off, the epoch count is fixed). With `deadline`
    (a time.time()), `epochs` is the first plan only: the length is fitted to end by the deadline at the
    speed of the epochs as they are trained (`fit_to_deadline`), the schedule spanning what it becomes.
    """
    mean, std = normalisation(train_x)
    d = base.data
    data = TrialData(np.ascontiguousarray(train_x), train_y, np.ascontiguousarray(watch_x), watch_y,
                     d.class_names, mean, std, d.name)
    config = {**config, **({"patience": 0} if "patience" in config else {})}
    # not a search trial: the search's first-epoch time limit (budget.max_epoch_seconds) and constraints do not apply
    settings = replace(base.settings, max_epoch_seconds=None, constraints=())
    reports: list[EpochReport] = []
    total: list[float] = [epochs]  # what the deadline has refitted the length to so far
    t0 = time.perf_counter()

    def report(r: EpochReport, state: TrialState | None) -> None:
        reports.append(r)
        say(f"{label}: epoch {r.epoch}/{total[0]:g} train_loss {r.train_loss:.4f} train_acc {r.train_acc:.4f} "
            f"({time.perf_counter() - t0:.0f}s)")

    fitted = fit_to_deadline(deadline, say, label) if deadline is not None else None

    def length(r: EpochReport, planned: float) -> float:
        total[0] = fitted(r, planned) if fitted is not None else planned
        return total[0]

    state = run(config, data, settings, report, epochs=epochs, length=length)
    if state is None or state.preprocess is None:  # cannot happen without a time limit; say so if it does
        raise LaunchError(f"{label}: training ended before its first epoch; nothing to export")
    trained = min(total[0], len(reports))  # a partial last pass counts as its share of an epoch
    return Retrained(trained_model(config, d.in_shape, d.num_classes, state.model), state.preprocess, reports,
                     round(trained, 3))


def _chosen(exp: Experiment, trial_id: str | None, by: str, planned: bool,
            pick: str | None = None) -> tuple[str, pd.Series]:
    """The trial to retrain (the best, `trial_id` when it is a scored trial, or the one `pick` chooses:
    analysis/pick.py) and its leaderboard row.

    With a `planned` length, `trial_id` may be a trial that never reported (a time-budgeted run falls back
    to its warm start when no trial finished a stage): its config is all the retraining needs.
    """
    if planned and trial_id is not None and not exp.trials.empty and trial_id in set(exp.trials["trial_id"]):
        return trial_id, exp.trials.set_index("trial_id").loc[trial_id]
    ranked = ranked_trials(exp, by)
    if ranked.empty:
        raise LaunchError(f"{exp.path}: no trial has reported {exp.metric} yet, so there is nothing to retrain")
    if trial_id is None:
        trial_id = pick_trial(ranked, exp.metric, pick or "best")
    elif trial_id not in set(ranked["trial_id"]):
        raise LaunchError(f"trial {trial_id!r} is not a scored trial of {exp.path}; "
                          f"choose one of {list(ranked['trial_id'])}")
    return trial_id, ranked.set_index("trial_id").loc[trial_id]


def _write_bundle(folder: Path, fit: Retrained, config: dict[str, Any], d: TrialData, ev: TestEvaluation,
                  source: dict[str, Any], flip_tta: bool) -> None:
    """The bundle, with the test metrics and a prediction for every test image."""
    metrics = {**ev.metrics.summary(), "per_class": ev.metrics.per_class.reset_index().to_dict("records"),
               "confusion": ev.metrics.confusion.tolist(), "test_images": int(len(ev.y_true))}
    save_bundle(folder, fit.model, config, d.class_names, d.in_shape, fit.preprocess, metrics, source, flip_tta)
    pd.DataFrame({"index": np.arange(len(ev.y_true)), "true": ev.y_true, "predicted": ev.y_pred,
                  "probability": ev.probs.max(1)}).to_csv(folder / PREDICTIONS, index=False)


def _retraining_data(base: ExperimentData, planned_epochs: int | None, num_threads: int | None) -> ExperimentData:
    """The data with the retraining's settings: a planned length the schedule spans exactly, and its threads."""
    settings = base.settings
    if planned_epochs is not None:
        settings = replace(settings, max_epochs=planned_epochs, schedule_epochs=planned_epochs)
    return replace(base, settings=replace(settings, num_threads=num_threads or settings.num_threads))


def final_model(results_dir: str | Path, out: str | Path | None = None, trial_id: str | None = None,
                by: str = "best", progress: Progress | None = stderr_progress("final"), pick: str | None = None,
                epochs: int | None = None, num_threads: int | None = None,
                data: ExperimentData | None = None, deadline: float | None = None) -> FinalModel:
    """Retrain the best trial's config (or `trial_id`'s, or the one `pick` chooses: analysis/pick.py) on
    train+validation for its best epoch count.

    `epochs` instead trains for that planned length with a schedule spanning exactly it (a time-budgeted
    run's final training); `num_threads` overrides the trials' CPU threads; `data` is the experiment's
    data when the caller has it loaded already (else it is reloaded from the saved config); with
    `deadline` (a time.time()) the retraining's length is fitted to end by then (`fit_to_deadline`).

    Example:
        >>> final_model("results/quickstart", pick="smallest-within:0.5")  # doctest: +SKIP
    """
    say = progress or (lambda _m: None)
    started = time.perf_counter()
    check_final_choice(trial_id, pick)
    exp = load_experiment(results_dir)
    planned = epochs is not None
    trial_id, row = _chosen(exp, trial_id, by, planned, pick)
    if epochs is None:
        epochs = int(row["best_epoch"]) if by == "best" else int(row["epochs"])
    config = trial_config(exp, trial_id)
    say(f"loading data of {exp.path}")
    base = _retraining_data(data or load_experiment_data(exp.path), epochs if planned else None, num_threads)
    d = base.data
    x = np.concatenate([d.x_train, d.x_val])
    y = np.concatenate([d.y_train, d.y_val])
    say(f"retraining trial {trial_id} ({config.get('family', '?')}) on {len(y)} train+validation images "
        f"for {epochs} epochs")
    fit = train_fixed(config, x, y, d.x_val[:WATCH_IMAGES], d.y_val[:WATCH_IMAGES], base, epochs, "retrain", say,
                      deadline)
    epochs_trained = fit.epochs  # with a deadline, what the training was fitted to (a partial last pass counts)
    trained = time.perf_counter()
    say(f"evaluating on {len(base.y_test)} test images")
    tta = flip_tta_for(config, base.settings)
    ev = evaluate_model(fit.model, fit.preprocess, base.x_test, base.y_test, d.class_names, trial_id, epochs_trained,
                        config, tta)
    folder = output_folder(exp.path, out, "final")
    source = {"experiment": str(exp.path), "trial_id": trial_id, "epochs": epochs_trained,
              "trained_on": f"train+validation ({len(y)} images)",
              f"search_{exp.metric}": float(row.get(exp.metric, math.nan))}
    _write_bundle(folder, fit, config, d, ev, source, tta)
    say(f"bundle written to {folder}")
    seconds = {"training": trained - started, "evaluation": time.perf_counter() - trained}
    return FinalModel(folder, trial_id, epochs_trained, config, ev, seconds)

"""`hpsearch final`: retrain the best configuration on train+validation, evaluate once on test, export a bundle.

The test set is touched here only, after selection: the configuration and its epoch count both
come from validation scores.
"""
from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from trainables.checkpoint import TrialState, trained_model
from trainables.data import TrialData
from trainables.data.split import channel_stats
from trainables.loop import run
from trainables.metrics import EpochReport
from trainables.preprocess import Normalisation

from .bundle import PREDICTIONS, save_bundle
from .errors import ExperimentError as LaunchError
from .evaluate import TestEvaluation, evaluate_model
from .experiment_data import ExperimentData, load_experiment_data
from .leaderboard import leaderboard
from .load import Experiment, load_experiment
from .location import as_path, output_folder
from .progress import Progress, stderr_progress


@dataclass
class FinalModel:
    bundle: Path
    trial_id: str
    epochs: int
    config: dict[str, Any]
    evaluation: TestEvaluation


def ranked_trials(exp: Experiment, by: str = "best") -> pd.DataFrame:
    """Leaderboard rows with a finite score (errored and never-reported trials cannot be chosen)."""
    board = leaderboard(exp, by=by)
    return board.dropna(subset=[exp.metric]) if not board.empty else board


def trial_config(exp: Experiment, trial_id: str) -> dict[str, Any]:
    """The exact config Ray passed to the trial (its params.json), seed included."""
    row = exp.trials.set_index("trial_id").loc[trial_id]
    params = as_path(row["trial_dir"]) / "params.json" if row["trial_dir"] else None
    if params is not None and params.is_file():
        return json.loads(params.read_text())
    return {c.removeprefix("config/"): v for c, v in row.items()
            if c.startswith("config/") and not (isinstance(v, float) and math.isnan(v))}


def normalisation(x: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean/std in [0, 1] units, as `make_trial_data` computes them."""
    return channel_stats(x)


@dataclass
class Retrained:
    """A model retrained for a fixed number of epochs, with the preprocessing its trial decided."""

    model: torch.nn.Module
    preprocess: Normalisation
    reports: list[EpochReport]


def train_fixed(config: dict[str, Any], train_x: np.ndarray, train_y: np.ndarray, watch_x: np.ndarray,
                watch_y: np.ndarray, base: ExperimentData, epochs: int, label: str, say: Progress) -> Retrained:
    """Train `config` for exactly `epochs` epochs (schedule horizon as in the search).

    `watch_x/y` is what `run` reports validation metrics on; it never influences training here
    (the trial's own early stopping is switched off, the epoch count is fixed).
    """
    mean, std = normalisation(train_x)
    d = base.data
    data = TrialData(np.ascontiguousarray(train_x), train_y, np.ascontiguousarray(watch_x), watch_y,
                     d.class_names, mean, std, d.name)
    config = {**config, **({"patience": 0} if "patience" in config else {})}
    # not a search trial: the search's first-epoch time limit (budget.max_epoch_seconds) does not apply
    settings = replace(base.settings, max_epoch_seconds=None)
    reports: list[EpochReport] = []
    t0 = time.perf_counter()

    def report(r: EpochReport, _state: TrialState | None) -> None:
        reports.append(r)
        say(f"{label}: epoch {r.epoch}/{epochs} train_loss {r.train_loss:.4f} train_acc {r.train_acc:.4f} "
            f"({time.perf_counter() - t0:.0f}s)")

    state = run(config, data, settings, report, epochs=epochs)
    if state is None or state.preprocess is None:  # cannot happen without a time limit; say so if it does
        raise LaunchError(f"{label}: training ended before its first epoch; nothing to export")
    return Retrained(trained_model(config, d.in_shape, d.num_classes, state.model), state.preprocess, reports)


def final_model(results_dir: str | Path, out: str | Path | None = None, trial_id: str | None = None,
                by: str = "best", progress: Progress | None = stderr_progress("final")) -> FinalModel:
    """Retrain the best trial's config (or `trial_id`'s) on train+validation for its best epoch count.

    Example:
        >>> final_model("results/quickstart")  # doctest: +SKIP
    """
    say = progress or (lambda _m: None)
    exp = load_experiment(results_dir)
    ranked = ranked_trials(exp, by)
    if ranked.empty:
        raise LaunchError(f"{exp.path}: no trial has reported {exp.metric} yet, so there is nothing to retrain")
    if trial_id is None:
        trial_id = str(ranked.iloc[0]["trial_id"])
    elif trial_id not in set(ranked["trial_id"]):
        raise LaunchError(f"trial {trial_id!r} is not a scored trial of {exp.path}; "
                          f"choose one of {list(ranked['trial_id'])}")
    row = ranked.set_index("trial_id").loc[trial_id]
    epochs = int(row["best_epoch"]) if by == "best" else int(row["epochs"])
    config = trial_config(exp, trial_id)
    say(f"loading data of {exp.path}")
    base = load_experiment_data(exp.path)
    d = base.data
    x = np.concatenate([d.x_train, d.x_val])
    y = np.concatenate([d.y_train, d.y_val])
    say(f"retraining trial {trial_id} ({config.get('family', '?')}) on {len(y)} train+validation images "
        f"for {epochs} epochs")
    fit = train_fixed(config, x, y, d.x_val[:256], d.y_val[:256], base, epochs, "retrain", say)
    say(f"evaluating on {len(base.y_test)} test images")
    ev = evaluate_model(fit.model, fit.preprocess, base.x_test, base.y_test, d.class_names, trial_id, epochs, config)
    folder = output_folder(exp.path, out, "final")
    metrics = {**ev.metrics.summary(), "per_class": ev.metrics.per_class.reset_index().to_dict("records"),
               "confusion": ev.metrics.confusion.tolist(), "test_images": int(len(ev.y_true))}
    source = {"experiment": str(exp.path), "trial_id": trial_id, "epochs": epochs,
              "trained_on": f"train+validation ({len(y)} images)", f"search_{exp.metric}": float(row[exp.metric])}
    save_bundle(folder, fit.model, config, d.class_names, d.in_shape, fit.preprocess, metrics, source)
    pd.DataFrame({"index": np.arange(len(ev.y_true)), "true": ev.y_true, "predicted": ev.y_pred,
                  "probability": ev.probs.max(1)}).to_csv(folder / PREDICTIONS, index=False)
    say(f"bundle written to {folder}")
    return FinalModel(folder, trial_id, epochs, config, ev)

"""Stratified K-fold cross-validation of the top configurations, on train+validation (never test)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ExperimentError as LaunchError
from .experiment_data import load_experiment_data
from .final import ranked_trials, train_fixed, trial_config
from .load import load_experiment
from .progress import Progress, stderr_progress


def stratified_folds(y: np.ndarray, k: int, seed: int) -> list[np.ndarray]:
    """`k` disjoint index arrays covering y, each with every class in proportion."""
    rng = np.random.default_rng(seed)
    folds: list[list[np.ndarray]] = [[] for _ in range(k)]
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        rng.shuffle(idx)
        for f, part in enumerate(np.array_split(idx, k)):
            folds[f].append(part)
    return [np.sort(np.concatenate(f)) for f in folds]


def cross_validate(results_dir: str | Path, folds: int = 5, top: int = 3, by: str = "best",
                   progress: Progress | None = stderr_progress("cross-validation")) -> pd.DataFrame:
    """One row per configuration: mean and std over folds of accuracy and macro F1 (each at its best epoch count)."""
    if folds < 2:
        raise LaunchError(f"--folds must be at least 2, got {folds}")
    say = progress or (lambda _m: None)
    exp = load_experiment(results_dir)
    ranked = ranked_trials(exp, by).head(top)
    if ranked.empty:
        raise LaunchError(f"{exp.path}: no scored trial to cross-validate")
    base = load_experiment_data(exp.path)
    d = base.data
    x, y = np.concatenate([d.x_train, d.x_val]), np.concatenate([d.y_train, d.y_val])
    parts = stratified_folds(y, folds, base.settings.seed)
    rows = []
    for _, r in ranked.iterrows():
        tid, epochs = str(r["trial_id"]), int(r["best_epoch"] if by == "best" else r["epochs"])
        config = trial_config(exp, tid)
        accs, f1s = [], []
        for f, held in enumerate(parts):
            keep = np.setdiff1d(np.arange(len(y)), held)
            fit = train_fixed(config, x[keep], y[keep], x[held], y[held], base, epochs,
                              f"trial {tid} fold {f + 1}/{folds}", say)
            accs.append(fit.reports[-1].val_acc)
            f1s.append(fit.reports[-1].val_f1)
        rows.append({"trial_id": tid, "epochs": epochs, "folds": folds,
                     "acc_mean": float(np.mean(accs)), "acc_std": float(np.std(accs, ddof=1)),
                     "f1_macro_mean": float(np.mean(f1s)), "f1_macro_std": float(np.std(f1s, ddof=1)),
                     "fold_acc": [round(a, 4) for a in accs]})
    return pd.DataFrame(rows)

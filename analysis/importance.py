"""Hyperparameter importance: Optuna's evaluators on a study rebuilt from the trials table.

Each trial with a finite score becomes a completed `optuna` trial whose distributions come from
the experiment's saved space, so importance needs no live searcher and works on any experiment.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import optuna
import pandas as pd
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from spaces import Categorical, FloatRange, IntRange, Param, Space

from .load import Experiment


def _distribution(p: Param):
    if isinstance(p, Categorical):
        return CategoricalDistribution(list(p.choices))
    if isinstance(p, IntRange):
        return IntDistribution(p.low, p.high, log=p.log, step=p.step)
    if isinstance(p, FloatRange):
        return FloatDistribution(p.low, p.high, log=p.log, step=p.step)
    return None  # constants carry no information


def _within(name: str, dist: Any, value: Any) -> bool:
    """Whether `value` is a valid value of `dist` (the space may have changed since the trial ran).

    Asks Optuna's own validation of a trial, the public way to check a value against a distribution.
    """
    try:
        optuna.trial.create_trial(params={name: value}, distributions={name: dist}, value=0.0)
    except ValueError:
        return False
    return True


def rebuild_study(exp: Experiment, space: Space, by: str = "best") -> optuna.Study:
    """A study holding one completed trial per scored trial (value: its best or last metric)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize" if exp.mode == "max" else "minimize")
    dists = {p.name: d for p in space.params if (d := _distribution(p)) is not None}
    col = f"{by}_{exp.metric}"
    for _, row in exp.trials.iterrows():
        value = row.get(col)
        if not isinstance(value, float) or not math.isfinite(value):
            continue
        params: dict[str, Any] = {}
        for name, dist in dists.items():
            v = row.get(f"config/{name}")
            if v is None or (isinstance(v, float) and math.isnan(v)):
                continue  # conditional parameter absent in this trial
            if isinstance(dist, IntDistribution):
                v = int(v)
            if _within(name, dist, v):
                params[name] = v
        study.add_trial(optuna.trial.create_trial(params=params, distributions={k: dists[k] for k in params},
                                                  value=float(value)))
    return study


EVALUATORS = {
    "fanova": lambda: optuna.importance.FanovaImportanceEvaluator(seed=0),
    "mean_decrease_impurity": lambda: optuna.importance.MeanDecreaseImpurityImportanceEvaluator(seed=0),
}


def param_importances(exp: Experiment, space: Space, by: str = "best") -> pd.DataFrame:
    """Importance per parameter (rows, most important first) and evaluator (columns), each column sums to 1.

    Empty when fewer than two trials were scored or no parameter is shared by all of them
    (Optuna evaluates the parameters common to every completed trial).
    """
    study = rebuild_study(exp, space, by)
    if len(study.trials) < 2:
        return pd.DataFrame()
    columns = {}
    for name, make in EVALUATORS.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                columns[name] = optuna.importance.get_param_importances(study, evaluator=make())
        except (ValueError, RuntimeError):
            continue  # e.g. no parameter common to all trials, or all values equal
    table = pd.DataFrame(columns).fillna(0.0)
    if table.empty:
        return table
    return table.sort_values(table.columns[0], ascending=False)

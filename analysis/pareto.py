"""The Pareto front of a multi-objective search, computed from the trials' results on disk.

A trial is Pareto-optimal when no other trial is at least as good on every objective and better on
one. Candidates are the trials with a value for every objective (the primary at its best epoch, or
its last with `by="last"`; the other objectives at that same epoch) that broke no constraint: stopped
trials take part at the fidelity they reached, as they rank in the leaderboard.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .load import Experiment
from .objectives import Objective, parse_objectives
from .outcome import INFEASIBLE

PARETO = "pareto"  # the leaderboard's column


def experiment_objectives(exp: Experiment) -> list[Objective]:
    """The experiment's objectives, the primary first (one entry for a single-objective search)."""
    raw = exp.config.get("search", {}).get("objectives") or []
    return parse_objectives(raw) or [Objective(exp.metric, exp.mode)]


def pareto_mask(values: np.ndarray, modes: list[str]) -> np.ndarray:
    """Rows of `values` (one column per objective) that no other row dominates; rows with a NaN never are."""
    ok = ~np.isnan(values).any(axis=1)
    loss = values * np.array([-1.0 if m == "max" else 1.0 for m in modes])  # all minimised
    mask = np.zeros(len(values), dtype=bool)
    for i in np.flatnonzero(ok):
        others = loss[ok]
        dominated = ((others <= loss[i]).all(axis=1) & (others < loss[i]).any(axis=1)).any()
        mask[i] = not dominated
    return mask


def objective_table(exp: Experiment, by: str = "best") -> pd.DataFrame:
    """One row per trial: trial_id and each objective's value at the primary's best (or last) epoch."""
    objectives = experiment_objectives(exp)
    names = [o.metric for o in objectives]
    t = exp.trials
    if t.empty or exp.epochs.empty:
        return pd.DataFrame({"trial_id": t.get("trial_id", pd.Series(dtype=str)), **{m: np.nan for m in names}})
    chosen = t[["trial_id", "best_epoch" if by == "best" else "epochs", "ended"]].set_axis(
        ["trial_id", "epoch", "ended"], axis=1)
    rows = chosen.merge(exp.epochs, on=["trial_id", "epoch"], how="left")
    out = pd.DataFrame({"trial_id": rows["trial_id"]})
    for m in names:
        values = rows[m] if m in rows else pd.Series(np.nan, index=rows.index)
        out[m] = pd.to_numeric(values, errors="coerce").where(rows["ended"] != INFEASIBLE)
    return out


def pareto_table(exp: Experiment, by: str = "best") -> pd.DataFrame:
    """`objective_table` with a boolean `pareto` column (all False for a single-objective search)."""
    objectives = experiment_objectives(exp)
    table = objective_table(exp, by)
    if len(objectives) < 2 or table.empty:
        return table.assign(**{PARETO: False})
    values = table[[o.metric for o in objectives]].to_numpy(dtype=float)
    return table.assign(**{PARETO: pareto_mask(values, [o.mode for o in objectives])})

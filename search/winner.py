"""Which trial a time-budgeted run trains as its final model (`hpsearch run` with budget.mode time).

The leader is the trial that climbed the stage ladder highest and, of those, the best at that stage's end.
Stages are cheap (a fraction of the final training's length), and at 10 minutes on 2 cores they are 10-40x
shorter than the final training: what leads there by a little is often what learns fast, not what ends best
(docs/benchmarks/real_compute_recipe.md, final_share 0.85: none of five seeds chose the preset's recipe, and
in seeds 0, 1 and 3 the cheap-stage leader ended 0.55-1.95 points below the recipe trained alone). So the
space's first warm start, the prior the search draws around, stays the choice unless the leader beats it by
more than `search.prior_margin` points (a point is a hundredth of the metric) at the highest stage both
reached. 0.5 points is about 1.5 standard errors of a paired accuracy difference on 6,000 validation images.
"""
from __future__ import annotations

import pandas as pd

from analysis.load import load_experiment
from spaces import Space
from trainables.metrics import RESOURCE, STAGE

from .launch import LaunchError
from .searcher import warm_start_points


def staged_winner(path: str, space: Space, prior_margin: float = 0.0) -> tuple[str, str]:
    """(trial id, why) of the final training's trial; the space's first warm start when no trial finished a
    stage (the best guess there is) or when no trial led it by more than `prior_margin` points."""
    exp = load_experiment(path)
    ends = exp.epochs.dropna(subset=[RESOURCE, exp.metric]) if RESOURCE in exp.epochs else exp.epochs.iloc[0:0]
    prior = prior_trial(exp.trials, space)
    if ends.empty:
        if prior is None:
            raise LaunchError(f"{path}: no trial finished even its cheapest stage before the exploration deadline, "
                              "and the warm start never started; give a larger budget.time_budget_s")
        return prior, "warm start: no trial finished a stage in time"
    sign = 1.0 if exp.mode == "max" else -1.0
    top = ends[ends[RESOURCE] >= ends[RESOURCE].max() - 1e-9]
    best = (sign * top[exp.metric]).idxmax()
    leader, stage = str(top.loc[best, "trial_id"]), int(top.loc[best, STAGE])
    why = f"best {exp.metric} at stage {stage}"
    if prior is None or prior == leader or prior_margin <= 0:
        return leader, why
    kept = prior_lead(ends, exp.metric, sign, leader, prior)
    if kept is None:
        return leader, why + " (the warm start finished no stage)"
    lead, shared = kept
    if lead <= prior_margin:
        return prior, (f"warm start kept: the leader {leader} ({why}) led it by {lead:.2f} points at stage "
                       f"{shared}, within search.prior_margin {prior_margin:g}")
    return leader, why + f", {lead:.2f} points above the warm start at stage {shared}"


def prior_lead(ends: pd.DataFrame, metric: str, sign: float, leader: str, prior: str) -> tuple[float, int] | None:
    """(points the leader is better than the prior by, stage) at the highest stage both finished; None when the
    prior finished none. Points are hundredths of the metric, positive when the leader is better."""
    mine = ends[ends["trial_id"] == leader].set_index(STAGE)[metric]
    theirs = ends[ends["trial_id"] == prior].set_index(STAGE)[metric]
    shared = sorted(set(mine.index) & set(theirs.index))
    if not shared:
        return None
    stage = shared[-1]
    return 100 * sign * (float(mine.loc[[stage]].iloc[-1]) - float(theirs.loc[[stage]].iloc[-1])), int(stage)


def prior_trial(trials: pd.DataFrame, space: Space) -> str | None:
    """The id of the trial that ran the space's first warm start, or None (no warm start, or it never ran)."""
    points = warm_start_points(space)
    if points and not trials.empty:
        for _, row in trials.iterrows():
            if all(row.get(f"config/{k}") == v for k, v in points[0].items()):
                return str(row["trial_id"])
    return None

"""The Pareto front: the primary objective against each other objective, each front trial named."""
from __future__ import annotations

import pandas as pd

from ..load import Experiment
from ..pareto import PARETO, experiment_objectives, pareto_table
from ._canvas import FADED, new_figure

LABEL_ALL_UP_TO = 30  # trials: beyond this only the front's points carry their id


def pareto_data(exp: Experiment, by: str = "best") -> pd.DataFrame:
    """Rows (trial_id, one column per objective, pareto) of the trials with every objective's value."""
    table = pareto_table(exp, by)
    return table.dropna(subset=[o.metric for o in experiment_objectives(exp)]).reset_index(drop=True)


def plot_pareto(exp: Experiment, by: str = "best"):
    objectives = experiment_objectives(exp)
    d = pareto_data(exp, by)
    primary, others = objectives[0], objectives[1:]
    fig, axes = new_figure(width=6 * len(others), height=4.5, ncols=len(others))
    for ax, other in zip(axes, others):
        rest, front = d[~d[PARETO]], d[d[PARETO]].sort_values(other.metric)
        ax.scatter(rest[other.metric], rest[primary.metric], s=22, color=FADED, label="dominated")
        ax.plot(front[other.metric], front[primary.metric], "o-", color="#c44e52", ms=6, drawstyle="steps-post",
                label="Pareto front")
        labelled = d if len(d) <= LABEL_ALL_UP_TO else front
        for _, r in labelled.iterrows():
            ax.annotate(str(r["trial_id"]), (r[other.metric], r[primary.metric]), fontsize=7,
                        xytext=(3, 3), textcoords="offset points", color="#c44e52" if r[PARETO] else "#777")
        if other.metric == "param_count" and not d.empty:
            ax.set_xscale("log")
        ax.set(xlabel=f"{other.metric} ({other.mode})", ylabel=f"{by} {primary.metric} ({primary.mode})",
               title=f"Pareto front: {primary.metric} against {other.metric}")
        ax.legend(fontsize=8)
    return fig

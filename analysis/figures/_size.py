"""Score against model size (parameter count), per family."""
from __future__ import annotations

import pandas as pd

from ..load import Experiment
from ._canvas import new_figure


def size_data(exp: Experiment, by: str = "best") -> pd.DataFrame:
    """Rows (trial_id, family, param_count, score) of the trials that reported both."""
    t = exp.trials
    if t.empty:
        return pd.DataFrame(columns=["trial_id", "family", "param_count", "score"])
    fam = t["config/family"] if "config/family" in t else pd.Series("model", index=t.index)
    d = pd.DataFrame({"trial_id": t["trial_id"], "family": fam.astype(str), "param_count": t["param_count"],
                      "score": t[f"{by}_{exp.metric}"]})
    return d.dropna().reset_index(drop=True)


def plot_size(exp: Experiment, by: str = "best"):
    d = size_data(exp, by)
    fig, (ax,) = new_figure(width=6, height=4)
    for fam, g in d.groupby("family"):
        ax.scatter(g["param_count"], g["score"], s=24, label=fam)
    if not d.empty:
        ax.set_xscale("log")
        ax.legend(fontsize=8)
    ax.set(xlabel="parameters", ylabel=f"{by} {exp.metric}", title="Score against model size")
    return fig

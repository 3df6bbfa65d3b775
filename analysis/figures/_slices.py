"""Slice plots: the score of every trial against each of the most important parameters."""
from __future__ import annotations

import pandas as pd

from ..load import Experiment
from ._canvas import new_figure


def slices_data(exp: Experiment, params: list[str], by: str = "best") -> dict[str, pd.DataFrame]:
    """param -> rows (value, score) of the trials where that parameter exists and the score is finite."""
    col = f"{by}_{exp.metric}"
    out = {}
    for p in params:
        c = f"config/{p}"
        if c not in exp.trials:
            continue
        d = exp.trials[[c, col]].rename(columns={c: "value", col: "score"}).dropna()
        out[p] = d.reset_index(drop=True)
    return out


def plot_slices(exp: Experiment, params: list[str], by: str = "best"):
    d = slices_data(exp, params, by)
    n = max(len(d), 1)
    fig, axes = new_figure(width=3.2 * n, height=3.2, ncols=n)
    for ax, (p, rows) in zip(axes, d.items()):
        numeric = pd.api.types.is_numeric_dtype(rows["value"]) and not pd.api.types.is_bool_dtype(rows["value"])
        if numeric:
            x = rows["value"].astype(float)
            ax.scatter(x, rows["score"], s=18)
            if (x > 0).all() and x.max() / max(x.min(), 1e-300) > 100:
                ax.set_xscale("log")  # learning rates and weight decays span decades
        else:
            cats = sorted(rows["value"].astype(str).unique())
            ax.scatter([cats.index(str(v)) for v in rows["value"]], rows["score"], s=18)
            ax.set_xticks(range(len(cats)), cats, rotation=30, fontsize=8)
        ax.set(xlabel=p, ylabel=f"{by} {exp.metric}" if ax is axes[0] else None)
    fig.suptitle("Slices of the most important parameters")
    return fig



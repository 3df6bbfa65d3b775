"""ASHA rung survival: how many trials reached each epoch."""
from __future__ import annotations

import pandas as pd

from ..load import Experiment
from ._canvas import new_figure


def rungs_data(exp: Experiment) -> pd.Series:
    """epoch -> number of trials that reported at least that many epochs (1..max)."""
    t = exp.trials
    top = max(exp.max_epochs, int(t["epochs"].max()) if not t.empty else 0)
    epochs = t["epochs"] if not t.empty else pd.Series(dtype=int)
    return pd.Series({e: int((epochs >= e).sum()) for e in range(1, top + 1)}, name="trials", dtype=int)


def plot_rungs(exp: Experiment):
    d = rungs_data(exp)
    fig, (ax,) = new_figure(width=6, height=3.5)
    ax.bar(d.index, d.values, color="#4c72b0")
    for x, y in d.items():
        ax.text(x, y, str(y), ha="center", va="bottom")
    ax.set(xlabel="epoch", ylabel="trials reaching it", title="Rung survival (ASHA)", xticks=list(d.index))
    return fig

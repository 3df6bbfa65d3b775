"""Hyperparameter importance bars (one group per Optuna evaluator)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._canvas import new_figure


def plot_importance(table: pd.DataFrame, top: int = 12):
    t = table.head(top).iloc[::-1]
    fig, (ax,) = new_figure(width=7, height=max(2.5, 0.35 * len(t) + 1))
    h = 0.8 / max(len(t.columns), 1)
    y = np.arange(len(t))
    for i, col in enumerate(t.columns):
        ax.barh(y + i * h, t[col], height=h, label=col)
    ax.set_yticks(y + h * (len(t.columns) - 1) / 2, list(t.index))
    ax.set(xlabel="importance (sums to 1 per evaluator)", title="Hyperparameter importance")
    ax.legend(fontsize=8, loc="lower right")
    return fig

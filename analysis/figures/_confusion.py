"""Confusion matrix of the test evaluation (rows: true class, columns: predicted)."""
from __future__ import annotations

import numpy as np

from ._canvas import new_figure


def plot_confusion(confusion: np.ndarray, class_names: list[str]):
    k = len(class_names)
    fig, (ax,) = new_figure(width=1.0 + 0.55 * k, height=0.8 + 0.5 * k)
    ax.imshow(confusion, cmap="Blues")
    peak = confusion.max() or 1
    for i in range(k):
        for j in range(k):
            ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if confusion[i, j] > peak / 2 else "black")
    ax.set_xticks(range(k), class_names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), class_names, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix (test)")
    return fig

"""Confusion matrix of the test evaluation (rows: true class, columns: predicted), drawn by scikit-learn."""
from __future__ import annotations

import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay

from ._canvas import new_figure


def plot_confusion(confusion: np.ndarray, class_names: list[str]):
    k = len(class_names)
    fig, (ax,) = new_figure(width=1.0 + 0.55 * k, height=0.8 + 0.5 * k)
    ConfusionMatrixDisplay(confusion, display_labels=class_names).plot(
        ax=ax, cmap="Blues", colorbar=False, values_format="d", xticks_rotation=45, text_kw={"fontsize": 7})
    ax.tick_params(labelsize=8)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix (test)")
    return fig

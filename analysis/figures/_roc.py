"""One-vs-rest ROC curve per class, AUC in the legend."""
from __future__ import annotations

from ..classification import RocCurve
from ._canvas import new_figure


def plot_roc(roc: dict[str, RocCurve]):
    fig, (ax,) = new_figure(width=6, height=5)
    for name, c in roc.items():
        ax.plot(c.fpr, c.tpr, lw=1.3, label=f"{name} (AUC {c.auc:.3f})")
    ax.plot([0, 1], [0, 1], color="#999999", ls="--", lw=1)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC per class (test, one-vs-rest)")
    ax.legend(fontsize=7, loc="lower right")
    return fig

"""Learning curves: the top trials in colour over every trial faded."""
from __future__ import annotations

from matplotlib.ticker import MaxNLocator

from ..load import Experiment
from ._canvas import FADED, new_figure

PANELS = ("metric", "train_loss", "val_loss")


def curves_data(exp: Experiment, top_ids: list[str]) -> dict[str, list[str]]:
    """Which trials are drawn in colour (`top`) and which faded (`rest`)."""
    ids = list(exp.epochs["trial_id"].unique()) if not exp.epochs.empty else []
    return {"top": [t for t in top_ids if t in ids], "rest": [t for t in ids if t not in top_ids]}


def plot_curves(exp: Experiment, top_ids: list[str]):
    d = curves_data(exp, top_ids)
    cols = [exp.metric] + [c for c in ("train_loss", "val_loss") if c != exp.metric]
    fig, axes = new_figure(width=4.2 * len(cols), height=3.8, ncols=len(cols))
    e = exp.epochs
    for ax, col in zip(axes, cols):
        if e.empty or col not in e:
            continue
        for t in d["rest"]:
            g = e[e["trial_id"] == t]
            ax.plot(g["epoch"], g[col], color=FADED, lw=1)
        for i, t in enumerate(d["top"]):
            g = e[e["trial_id"] == t]
            ax.plot(g["epoch"], g[col], marker="o", ms=3, lw=1.8, color=f"C{i}", label=f"#{i + 1} {t}")
        ax.set(xlabel="epoch", ylabel=col, title=col)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if d["top"]:
        axes[0].legend(fontsize=7, loc="best")
    return fig

"""Best metric so far against wall-clock time since the experiment started."""
from __future__ import annotations

import pandas as pd

from ..load import Experiment
from ._canvas import new_figure


def best_so_far_data(exp: Experiment) -> pd.DataFrame:
    """Every epoch report in time order: `time_s` since the first trial started, `value`, running `best`."""
    e = exp.epochs
    if e.empty or exp.metric not in e:
        return pd.DataFrame(columns=["time_s", "trial_id", "value", "best"])
    start = (e["timestamp"] - e["time_total_s"]).min()  # when the earliest trial began
    d = pd.DataFrame({"time_s": e["timestamp"] - start, "trial_id": e["trial_id"], "value": e[exp.metric]})
    d = d.dropna(subset=["value"]).sort_values(["time_s", "trial_id"], kind="stable").reset_index(drop=True)
    d["best"] = d["value"].cummax() if exp.mode == "max" else d["value"].cummin()
    return d


def plot_best_so_far(exp: Experiment):
    d = best_so_far_data(exp)
    fig, (ax,) = new_figure()
    ax.scatter(d["time_s"], d["value"], s=10, color="#9db4d0", label="epoch reports")
    ax.step(d["time_s"], d["best"], where="post", color="#1f4e8c", lw=2, label="best so far")
    ax.set(xlabel="wall-clock time since start (s)", ylabel=exp.metric, title="Best so far")
    ax.legend(loc="best")
    return fig

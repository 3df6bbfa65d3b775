"""The report's summary block: what was searched, how it went, what it cost, what won."""
from __future__ import annotations

import math
from typing import Any

from .load import Experiment
from .outcome import COMPLETED, ERRORED, STOPPED_ASHA
from .pareto import experiment_objectives


def experiment_summary(exp: Experiment, space_name: str = "", n_params: int = 0) -> dict[str, Any]:
    """Plain facts as an ordered dict of label -> text (rendered as a two-column table)."""
    cfg, t = exp.config, exp.trials
    ds, budget = cfg.get("dataset", {}), cfg.get("budget", {})
    counts = t["ended"].value_counts().to_dict() if not t.empty else {}
    compute = float(t["wall_time_s"].fillna(0).sum()) if not t.empty else 0.0
    col = f"best_{exp.metric}"
    scored = t.dropna(subset=[col]) if not t.empty else t
    best = ""
    if len(scored):
        row = scored.sort_values(col, ascending=exp.mode == "min", kind="stable").iloc[0]
        best = f"{row[col]:.4f} (trial {row['trial_id']}, epoch {int(row['best_epoch'])})"
    subset = ds.get("train_subset")
    time_budget = budget.get("time_budget_s")
    others = {k: v for k, v in counts.items() if k not in (COMPLETED, STOPPED_ASHA, ERRORED)}
    return {
        "experiment": f"{exp.name} ({exp.path})",
        "dataset": f"{ds.get('name', '?')}" + (f", train subset {subset}" if subset else "")
                   + f", validation fraction {ds.get('val_fraction', '?')}",
        "space": f"{space_name or cfg.get('space', '?')} ({n_params} parameters)",
        "budget": f"{budget.get('num_samples', '?')} trials x up to {budget.get('max_epochs', '?')} epochs"
                  + (f", time budget {time_budget}s" if time_budget else ""),
        "objective": ", ".join(f"{o.metric} ({o.mode})" for o in experiment_objectives(exp))
                     + "".join(f"; subject to {c}" for c in cfg.get("search", {}).get("constraints") or []),
        "trials": f"{len(t)} started: {counts.get(COMPLETED, 0)} completed, "
                  f"{counts.get(STOPPED_ASHA, 0)} stopped by ASHA, {counts.get(ERRORED, 0)} errored"
                  + "".join(f", {n} {k}" for k, n in sorted(others.items())),
        "total compute": _duration(compute) + " of trial wall time",
        "best": best or "-",
    }


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "-"
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}h {m:02d}m {s:02d}s" if h else f"{m}m {s:02d}s"

"""Rank trials by the experiment's metric; render as terminal table, CSV or Markdown."""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from .load import Experiment
from .pareto import PARETO, experiment_objectives, pareto_table

HIDDEN_PARAMS = {"seed"}
COST_COLUMNS = ("inference_ms", "config/backbone", "config/finetune")


def config_columns(trials: pd.DataFrame) -> list[str]:
    return [c for c in trials.columns if c.startswith("config/") and c.removeprefix("config/") not in HIDDEN_PARAMS]


def _param_text(row: pd.Series, columns: list[str]) -> str:
    parts = []
    for c in columns:
        v = row[c]
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue  # parameter does not exist for this trial (conditional space)
        parts.append(f"{c.removeprefix('config/')}={_fmt(v)}")
    return " ".join(parts)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}" if (abs(v) < 1e-2 or abs(v) >= 1e4) and v != 0 else f"{v:.4g}"
    return str(v)


def leaderboard(experiments: Experiment | Iterable[Experiment], by: str = "best", top: int | None = None,
                family: str | None = None, ended: str | None = None) -> pd.DataFrame:
    """Trials ranked by the metric (at their best epoch, or `by="last"`), ties broken by fewer epochs, then id.

    Several experiments are merged into one ranking with an `experiment` column; they must share metric and mode.
    """
    exps = [experiments] if isinstance(experiments, Experiment) else list(experiments)
    if not exps:
        raise ValueError("no experiments given")
    metric, mode = exps[0].metric, exps[0].mode
    for e in exps[1:]:
        if (e.metric, e.mode) != (metric, mode):
            raise ValueError(f"cannot merge {e.name} ({e.metric}, {e.mode}) with {exps[0].name} ({metric}, {mode})")
    frames = []
    for e in exps:
        t = e.trials.copy()
        if t.empty:
            continue
        t.insert(0, "experiment", e.name)
        frames.append(_with_pareto(t, e, by))
    if not frames:
        return pd.DataFrame(columns=["rank", "experiment", "trial_id", metric, "params"])
    t = pd.concat(frames, ignore_index=True)
    if family is not None and "config/family" in t:
        t = t[t["config/family"] == family]
    if ended is not None:
        t = t[t["ended"] == ended]
    score_col = f"{by}_{metric}"
    t = t.assign(**{metric: t[score_col]})
    key = t[metric] if mode == "min" else -t[metric]
    t = t.assign(_key=key.fillna(math.inf)).sort_values(["_key", "epochs", "experiment", "trial_id"], kind="stable")
    t = t.drop(columns="_key").reset_index(drop=True)
    t.insert(0, "rank", range(1, len(t) + 1))
    # hide only what every trial shares; a parameter some trials lack (conditional space) is shown where set
    varying = [c for c in config_columns(t) if t[c].nunique(dropna=False) > 1]
    # family first (it decides which parameters exist), then the parameters only some trials have
    # (architecture knobs of a family), then the rest: the terminal view truncates from the right
    varying.sort(key=lambda c: (c != "config/family", bool(t[c].notna().all()), c))
    t["params"] = [_param_text(row, varying) for _, row in t.iterrows()]
    if top:
        t = t.head(top)
    return t


def _with_pareto(t: pd.DataFrame, exp: Experiment, by: str) -> pd.DataFrame:
    """A `pareto` column (Pareto-optimal within its experiment) when the search has several objectives."""
    if len(experiment_objectives(exp)) < 2:
        return t
    flags = pareto_table(exp, by).set_index("trial_id")[PARETO]
    return t.assign(**{PARETO: t["trial_id"].map(flags).fillna(False).astype(bool)})


def summary_columns(board: pd.DataFrame, metric: str, with_experiment: bool = False) -> list[str]:
    cols = ["rank"] + (["experiment"] if with_experiment else []) + ["trial_id", metric]
    cols += [c for c in ("val_f1_macro", "epochs", "ended", "param_count") if c in board and c != metric]
    cols += [PARETO] if PARETO in board else []
    # accuracy against cost for transfer learning: backbone and policy beside size and speed
    cols += [c for c in COST_COLUMNS if c in board and board[c].notna().any()]
    return cols + ["params"]


def to_terminal(board: pd.DataFrame, metric: str, width: int = 160) -> str:
    """A compact fixed-width table (hyperparameters that vary across trials in the last column)."""
    if board.empty:
        return "(no trials yet)"
    cols = summary_columns(board, metric, board["experiment"].nunique() > 1)
    shown = board[cols].copy()
    for c in dict.fromkeys((metric, "val_f1_macro")):  # once, also when the metric is macro F1
        if c in shown:
            shown[c] = shown[c].map(lambda v: "-" if pd.isna(v) else f"{v:.4f}")
    if "param_count" in shown:
        shown["param_count"] = shown["param_count"].map(lambda v: "-" if pd.isna(v) else f"{int(v):,}")
    if "inference_ms" in shown:
        shown["inference_ms"] = shown["inference_ms"].map(lambda v: "-" if pd.isna(v) else f"{v:.3f}")
    if PARETO in shown:
        shown[PARETO] = shown[PARETO].map(lambda v: "yes" if v else "")
    shown = shown.fillna("-").rename(columns=lambda c: c.removeprefix("config/"))
    shown["params"] = shown["params"].map(lambda s: s if len(s) <= width else s[: width - 3] + "...")
    return shown.to_string(index=False, justify="left", formatters={"params": lambda s: f" {s}"})


def to_markdown(board: pd.DataFrame, metric: str) -> str:
    cols = summary_columns(board, metric, "experiment" in board and board["experiment"].nunique() > 1)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in board[cols].iterrows():
        cells = ["-" if (isinstance(v, float) and math.isnan(v)) else _fmt(v) for v in row]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def to_csv(board: pd.DataFrame, path: str) -> None:
    board.to_csv(path, index=False)

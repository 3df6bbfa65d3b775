"""Read an experiment folder into tidy tables, from files alone (no Ray cluster needed).

`trials`: one row per trial (config as `config/<name>` columns, best and last metrics, epochs run,
how it ended, wall time). `epochs`: one row per trial-epoch with every reported metric.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from trainables.schema import EPOCH, ERROR_KEY, INFEASIBLE, STOPPED_BY
from trainables.schema import TOO_SLOW as TOO_SLOW_FLAG

from .layout import (  # noqa: F401
    CONFIG_FILE,
    PARAMS_FILE,
    RAY_ERROR_FILE,
    RESULT_FILE,
    experiment_folder,
    metric_mode,
    read_abandoned,
    read_config_dict,
    read_results,
    read_trial_states,
    trial_dirs,
)
from .location import AnyPath
from .outcome import COMPLETED, DIVERGED, ERRORED, PENDING, STOPPED_ASHA, STOPPED_PATIENCE, TOO_SLOW, UNFINISHED, ended  # noqa: F401


@dataclass
class Experiment:
    """An experiment as tables, plus what it was asked to optimise."""

    path: AnyPath
    config: dict[str, Any]
    trials: pd.DataFrame
    epochs: pd.DataFrame

    @property
    def name(self) -> str:
        return str(self.config.get("name", self.path.name))

    @property
    def metric(self) -> str:
        return _metric(self.config)

    @property
    def mode(self) -> str:
        return _mode(self.config)

    @property
    def max_epochs(self) -> int:
        return _max_epochs(self.config)


def _metric(config: dict[str, Any]) -> str:
    return config.get("search", {}).get("metric", "val_acc")


def _mode(config: dict[str, Any]) -> str:
    return metric_mode(_metric(config), config.get("search", {}).get("mode"))


def _max_epochs(config: dict[str, Any]) -> int:
    return int(config.get("budget", {}).get("max_epochs", 0))


def _error_message(d: AnyPath | None) -> str:
    if d is None:
        return ""
    err = d / RAY_ERROR_FILE
    if not err.is_file():
        return ""
    lines = [ln for ln in err.read_text(errors="replace").strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def _split_rows(rows: list[dict[str, Any]]) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
    """A trial's result rows as {epoch: row} (the last report of an epoch wins, as after a restore) and its
    final row when it ended without an epoch's results (an exception, or too slow inside its first epoch)."""
    by_epoch: dict[int, dict[str, Any]] = {}
    final_row: dict[str, Any] = {}
    for r in rows:
        if r.get(ERROR_KEY) or r.get(STOPPED_BY) == TOO_SLOW_FLAG or (r.get(STOPPED_BY) == INFEASIBLE
                                                                    and not r.get(EPOCH)):
            final_row = r  # no epoch's results: an exception, too slow, or infeasible before training
        elif "epoch" in r:
            by_epoch[int(r["epoch"])] = r
    return by_epoch, final_row


def _trial_config(rows: list[dict[str, Any]], state: dict[str, Any], d: AnyPath | None) -> dict[str, Any]:
    config_t = (rows[-1].get("config") if rows else None) or state.get("config") or {}
    if not config_t and d is not None and (d / PARAMS_FILE).is_file():
        config_t = json.loads((d / PARAMS_FILE).read_text())
    return dict(config_t)


def _best(by_epoch: dict[int, dict[str, Any]], metric: str, mode: str) -> tuple[float, dict[str, Any]]:
    """The best value of `metric` and its row; a diverged epoch's numbers come from a broken model: never best."""
    values = [r.get(metric) for r in by_epoch.values() if not r.get("diverged")]
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    if not finite:
        return math.nan, {}
    best_val = max(finite) if mode == "max" else min(finite)
    return best_val, next((r for r in by_epoch.values() if r.get(metric) == best_val and not r.get("diverged")), {})


def _trial_row(trial_id: str, rows: list[dict[str, Any]], state: dict[str, Any], d: AnyPath | None, metric: str,
               mode: str, max_epochs: int) -> dict[str, Any]:
    """One leaderboard row: how the trial ended, its best and last values, cost, and its config."""
    by_epoch, final_row = _split_rows(rows)
    last = final_row or (by_epoch[max(by_epoch)] if by_epoch else {})
    status = state.get("status")
    n_epochs = max(by_epoch) if by_epoch else 0
    last_epoch = by_epoch[n_epochs] if by_epoch else {}
    best_val, best_row = _best(by_epoch, metric, mode)
    return {
        "trial_id": trial_id,
        "status": status or ("UNKNOWN" if rows else "PENDING"),
        "ended": ended(status, last, n_epochs, max_epochs),
        "epochs": n_epochs,
        "best_epoch": best_row.get("epoch", math.nan),
        f"best_{metric}": best_val,
        f"last_{metric}": last_epoch.get(metric, math.nan),
        "val_acc": best_row.get("val_acc", math.nan),
        "val_f1_macro": best_row.get("val_f1_macro", math.nan),
        "val_loss": best_row.get("val_loss", math.nan),
        # a trial infeasible before training measured its costs, but trained no epoch
        "param_count": (last_epoch or final_row).get("param_count", math.nan),
        "inference_ms": (last_epoch or final_row).get("inference_ms", math.nan),
        "wall_time_s": last.get("time_total_s", math.nan),
        "node_id": last.get("node_id", ""),
        "num_failures": state.get("num_failures", 0),
        "error": final_row.get(ERROR_KEY, "") or (_error_message(d) if status == "ERROR" else ""),
        "trial_dir": str(d) if d else "",
        "first_report_time": rows[0].get("timestamp", math.nan) if rows else math.nan,
        "last_report_time": last.get("timestamp", math.nan),
        **{f"config/{k}": v for k, v in sorted(_trial_config(rows, state, d).items())},
    }


def load_experiment(path: str | Path) -> Experiment:
    """Load one experiment folder (finished, running, interrupted or with errored trials)."""
    exp = experiment_folder(path)
    config = read_config_dict(exp)
    metric, mode, max_epochs = _metric(config), _mode(config), _max_epochs(config)
    states, dirs = read_trial_states(exp), trial_dirs(exp)
    trial_rows, epoch_rows = [], []
    for trial_id in sorted((set(states) | set(dirs)) - read_abandoned(exp)):
        d = dirs.get(trial_id)
        rows = read_results(d / RESULT_FILE) if d else []
        for _, r in sorted(_split_rows(rows)[0].items()):
            epoch_rows.append({"trial_id": trial_id, **{k: v for k, v in r.items() if k != "config"}})
        trial_rows.append(_trial_row(trial_id, rows, states.get(trial_id, {}), d, metric, mode, max_epochs))
    return Experiment(exp, config, pd.DataFrame(trial_rows), pd.DataFrame(epoch_rows))

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

from trainables.schema import ERROR_KEY, STOPPED_BY
from trainables.schema import TOO_SLOW as TOO_SLOW_FLAG

from .layout import (  # noqa: F401
    CONFIG_FILE,
    PARAMS_FILE,
    RAY_ERROR_FILE,
    RESULT_FILE,
    experiment_folder,
    metric_mode,
    read_config_dict,
    read_results,
    read_trial_states,
    trial_dirs,
)
from .outcome import COMPLETED, DIVERGED, ERRORED, PENDING, STOPPED_ASHA, STOPPED_PATIENCE, TOO_SLOW, UNFINISHED, ended  # noqa: F401


@dataclass
class Experiment:
    """An experiment as tables, plus what it was asked to optimise."""

    path: Path
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


def _error_message(d: Path | None) -> str:
    if d is None:
        return ""
    err = d / RAY_ERROR_FILE
    if not err.is_file():
        return ""
    lines = [ln for ln in err.read_text(errors="replace").strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def load_experiment(path: str | Path) -> Experiment:
    """Load one experiment folder (finished, running, interrupted or with errored trials)."""
    exp = experiment_folder(path)
    config = read_config_dict(exp)
    metric, mode, max_epochs = _metric(config), _mode(config), _max_epochs(config)
    states, dirs = read_trial_states(exp), trial_dirs(exp)

    trial_rows, epoch_rows = [], []
    for trial_id in sorted(set(states) | set(dirs)):
        d = dirs.get(trial_id)
        rows = read_results(d / RESULT_FILE) if d else []
        by_epoch: dict[int, dict[str, Any]] = {}
        final_row: dict[str, Any] = {}
        for r in rows:
            if r.get(ERROR_KEY):
                final_row = r  # the trial failed with an exception (recorded by the trainable)
            elif r.get(STOPPED_BY) == TOO_SLOW_FLAG:
                final_row = r  # stopped inside its first epoch: a final row, but no epoch's results
            elif "epoch" in r:
                by_epoch[int(r["epoch"])] = r  # after a restore the last report of an epoch wins
        config_t = (rows[-1].get("config") if rows else None) or states.get(trial_id, {}).get("config") or {}
        if not config_t and d is not None and (d / PARAMS_FILE).is_file():
            config_t = json.loads((d / PARAMS_FILE).read_text())
        for _e, r in sorted(by_epoch.items()):
            epoch_rows.append({"trial_id": trial_id, **{k: v for k, v in r.items() if k != "config"}})
        last = final_row or (by_epoch[max(by_epoch)] if by_epoch else {})
        status = states.get(trial_id, {}).get("status")
        n_epochs = max(by_epoch) if by_epoch else 0
        # a diverged epoch's numbers come from a broken model: never the trial's best
        values = [r.get(metric) for r in by_epoch.values() if not r.get("diverged")]
        finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
        best_val = (max(finite) if mode == "max" else min(finite)) if finite else math.nan
        best_row = next((r for r in by_epoch.values() if r.get(metric) == best_val and not r.get("diverged")), {}) \
            if finite else {}
        trial_rows.append({
            "trial_id": trial_id,
            "status": status or ("UNKNOWN" if rows else "PENDING"),
            "ended": ended(status, last, n_epochs, max_epochs),
            "epochs": n_epochs,
            "best_epoch": best_row.get("epoch", math.nan),
            f"best_{metric}": best_val,
            f"last_{metric}": by_epoch[n_epochs].get(metric, math.nan) if by_epoch else math.nan,
            "val_acc": best_row.get("val_acc", math.nan),
            "val_f1_macro": best_row.get("val_f1_macro", math.nan),
            "val_loss": best_row.get("val_loss", math.nan),
            "param_count": (by_epoch[n_epochs] if by_epoch else {}).get("param_count", math.nan),
            "inference_ms": (by_epoch[n_epochs] if by_epoch else {}).get("inference_ms", math.nan),
            "wall_time_s": last.get("time_total_s", math.nan),
            "node_id": last.get("node_id", ""),
            "num_failures": states.get(trial_id, {}).get("num_failures", 0),
            "error": final_row.get(ERROR_KEY, "") or (_error_message(d) if status == "ERROR" else ""),
            "trial_dir": str(d) if d else "",
            "first_report_time": rows[0].get("timestamp", math.nan) if rows else math.nan,
            "last_report_time": last.get("timestamp", math.nan),
            **{f"config/{k}": v for k, v in sorted(config_t.items())},
        })
    trials = pd.DataFrame(trial_rows)
    epochs = pd.DataFrame(epoch_rows)
    return Experiment(exp, config, trials, epochs)

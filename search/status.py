"""How far a search is, as plain data: a `ProgressSnapshot`, from live Ray trials or from disk.

Both the live progress view (`search.progress`) and `hpsearch status` build the same snapshot,
so what a user sees while a search runs equals what `hpsearch status` reports afterwards.
"""
from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.outcome import DONE, ERRORED_STATE, PENDING_STATE, RUNNING, STOPPED, ended, state_of  # noqa: F401 (re-exported)
from analysis.run_log import TIME_BUDGET, Run, RunLog, read_run_log

# the parameters shown next to the best trial, in this order when present (the rest follow by name)
KEY_PARAMS = ["family", "model", "optimizer", "lr", "batch_size", "weight_decay", "schedule"]
SHOWN_PARAMS = 4
_HIDDEN_PARAMS = {"seed"}

ERRORED, PENDING = ERRORED_STATE, PENDING_STATE  # the five states: DONE, RUNNING, STOPPED, ERRORED, PENDING


@dataclass
class ProgressSnapshot:
    """Counts of trials by state (out of `budget`), the best so far, epochs, time and resources."""

    budget: int
    metric: str
    mode: str
    counts: dict[str, int] = field(default_factory=dict)
    best: float | None = None
    best_trial: str | None = None
    best_params: dict[str, Any] = field(default_factory=dict)
    epochs: int = 0
    elapsed_s: float = 0.0
    time_budget_s: float | None = None
    cpus: tuple[float, float] | None = None  # (in use, total)
    gpus: tuple[float, float] | None = None
    runs: list[Run] = field(default_factory=list)  # from the run log (on disk only)

    @property
    def end_reason(self) -> str | None:
        """Why the last run ended (e.g. "time budget reached"), or None while it runs or if it was killed."""
        return self.runs[-1].reason if self.runs else None

    def count(self, state: str) -> int:
        return self.counts.get(state, 0)

    @property
    def trials(self) -> int:
        """Trials that exist now (every state), at most `budget` unless a time budget cut it."""
        return sum(self.counts.values())

    @property
    def finished(self) -> bool:
        if self.count(RUNNING) or self.count(PENDING):
            return False
        return self.trials >= self.budget or self.end_reason == TIME_BUDGET

    @property
    def remaining_s(self) -> float | None:
        if self.time_budget_s is None:
            return None
        return max(0.0, self.time_budget_s - self.elapsed_s)


def classify(ended_as: str) -> str:
    """Map `analysis.outcome.ended` values onto the five states shown to users."""
    return state_of(ended_as)


def key_params(config: dict[str, Any], limit: int = SHOWN_PARAMS) -> dict[str, Any]:
    """The few parameters worth printing next to a trial id (family, optimizer, lr, ... first)."""
    names = [k for k in KEY_PARAMS if k in config]
    names += sorted(k for k in config if k not in KEY_PARAMS and k not in _HIDDEN_PARAMS)
    return {k: config[k] for k in names[:limit]}


def _is_better(value: float, best: float | None, mode: str) -> bool:
    if best is None:
        return True
    return value > best if mode == "max" else value < best


def from_trials(trials: Iterable[Any], *, budget: int, metric: str, mode: str, max_epochs: int,
                elapsed_s: float, time_budget_s: float | None = None, ending: dict[str, str] | None = None
                ) -> ProgressSnapshot:
    """Snapshot of live Ray Tune `Trial` objects (inside a Tune callback).

    `ending` maps trials that Ray is ending right now to the status they are about to get
    ("TERMINATED" or "ERROR"): Tune calls `on_trial_complete`/`on_trial_error` before it updates it.
    """
    ending = ending or {}
    snap = ProgressSnapshot(budget=budget, metric=metric, mode=mode, elapsed_s=elapsed_s,
                            time_budget_s=time_budget_s)
    for t in trials:
        last = t.last_result or {}
        n = int(last.get("epoch", 0) or 0)
        status = ending.get(t.trial_id, t.status)
        state = classify(ended(status, last, n, max_epochs))
        snap.counts[state] = snap.counts.get(state, 0) + 1
        snap.epochs += n  # epochs reached, as on disk (a resumed search counts its earlier epochs too)
        _offer_best(snap, t.trial_id, last.get(metric), t.config)
    return snap


def _offer_best(snap: ProgressSnapshot, trial_id: str, value: Any, config: dict[str, Any]) -> None:
    if isinstance(value, (int, float)) and math.isfinite(value) and _is_better(float(value), snap.best, snap.mode):
        snap.best, snap.best_trial, snap.best_params = float(value), trial_id, key_params(config or {})


def from_disk(path: str | Path, now: float | None = None) -> ProgressSnapshot:
    """Snapshot of an experiment folder (running elsewhere, interrupted or finished), from files alone."""
    from analysis.load import load_experiment

    exp = load_experiment(path)
    budget = exp.config.get("budget", {})
    snap = ProgressSnapshot(budget=int(budget.get("num_samples", 0)), metric=exp.metric, mode=exp.mode,
                            time_budget_s=budget.get("time_budget_s"), runs=read_run_log(exp.path).runs)
    t = exp.trials
    best_col = f"best_{exp.metric}"
    for _, row in t.iterrows():
        state = classify(row["ended"])
        snap.counts[state] = snap.counts.get(state, 0) + 1
        config = {k.removeprefix("config/"): v for k, v in row.items()
                  if k.startswith("config/") and not _missing(v)}
        _offer_best(snap, row["trial_id"], row.get(best_col), config)
    snap.epochs = int(t["epochs"].sum()) if len(t) else 0
    snap.elapsed_s = _elapsed_on_disk(exp, snap, now)
    cpus = float(exp.config.get("resources", {}).get("cpus_per_trial", 1))
    gpus = float(exp.config.get("resources", {}).get("gpus_per_trial", 0))
    if snap.count(RUNNING):
        # the cluster's totals are not on disk: report what the running trials hold
        snap.cpus = (snap.count(RUNNING) * cpus, math.nan)
        snap.gpus = (snap.count(RUNNING) * gpus, math.nan) if gpus else None
    return snap


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _elapsed_on_disk(exp: Any, snap: ProgressSnapshot, now: float | None) -> float:
    """The time the search has run, over all its launches and resumes (from the run log)."""
    t, e = exp.trials, exp.epochs
    reports = [float(v) for v in (list(e["timestamp"]) if "timestamp" in e else []) + list(t.get("last_report_time", []))
               if isinstance(v, (int, float)) and math.isfinite(v)]
    active = bool(snap.count(RUNNING) or snap.count(PENDING))
    if snap.runs:
        return RunLog(snap.runs).used_s(reports, now, running=active and snap.runs[-1].ended is None)
    # a folder from before the run log: from the first report to now (running) or to the last report
    firsts = [float(v) for v in t.get("first_report_time", []) if isinstance(v, (int, float)) and math.isfinite(v)]
    if not firsts:
        return 0.0
    end = (now or time.time()) if active else max(reports, default=min(firsts))
    return max(0.0, end - min(firsts))

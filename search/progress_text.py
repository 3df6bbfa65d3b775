"""A `ProgressSnapshot` as text: one plain line for logs and `hpsearch status --oneline`, a few lines for a
terminal, how the search stands, and its run history. No Ray here: `hpsearch status` imports only this.
"""
from __future__ import annotations

import math
import time
from typing import Any

from analysis.run_log import Run

from .status import DONE, ERRORED, PENDING, RUNNING, STOPPED, ProgressSnapshot


def clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def _best(snap: ProgressSnapshot) -> str:
    if snap.best is None:
        return f"best {snap.metric} -"
    params = " ".join(f"{k}={_value(v)}" for k, v in snap.best_params.items())
    return f"best {snap.metric}={snap.best:.4f} (trial {snap.best_trial}{': ' + params if params else ''})"


def _time(snap: ProgressSnapshot) -> str:
    if snap.remaining_s is None or snap.finished:
        return f"{clock(snap.elapsed_s)} elapsed"
    return f"{clock(snap.elapsed_s)} elapsed, {clock(snap.remaining_s)} left of {clock(snap.time_budget_s or 0)}"


def _resources(snap: ProgressSnapshot) -> str:
    parts = []
    for name, pair in (("CPU", snap.cpus), ("GPU", snap.gpus)):
        if pair is None:
            continue
        used, total = pair
        parts.append(f"{name} {used:g}" + ("" if math.isnan(total) else f"/{total:g}"))
    return " ".join(parts)


def _counts(snap: ProgressSnapshot) -> str:
    return (f"{snap.trials}/{snap.budget} trials: {snap.count(DONE)} done, {snap.count(RUNNING)} running, "
            f"{snap.count(STOPPED)} stopped early, {snap.count(ERRORED)} errored, {snap.count(PENDING)} pending")


def render_line(snap: ProgressSnapshot) -> str:
    """One plain line (no escape codes), for logs and `hpsearch status --oneline`."""
    parts = [_counts(snap), _best(snap), f"{snap.epochs} epochs", _time(snap), _resources(snap)]
    return " | ".join(p for p in parts if p)


def render_state(snap: ProgressSnapshot) -> str:
    """Finished (and why), or not, as `hpsearch status` heads its report."""
    if snap.finished:
        return f"finished ({snap.end_reason})" if snap.end_reason else "finished"
    if snap.end_reason:
        return f"not finished ({snap.end_reason}: hpsearch resume resumes it)"
    return "not finished (running, or interrupted: hpsearch resume resumes it)"


def render_history(runs: list[Run]) -> list[str]:
    """One line per launch or resume from the run log: when, with what budget, how it ended."""
    lines = []
    for run in runs:
        budget = f"{run.num_samples} trials" + (f", time budget {clock(run.time_budget_s)}" if run.time_budget_s else "")
        end = "running, or killed" if run.ended is None else f"ended {_when(run.ended)} ({run.reason}) after " \
            f"{clock(run.ended - run.started)}"
        lines.append(f"{_VERB.get(run.kind, run.kind)} {_when(run.started)} ({budget}); {end}")
    return lines


_VERB = {"launch": "launched", "resume": "resumed"}


def _when(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def render_lines(snap: ProgressSnapshot) -> list[str]:
    """The multi-line view shown on a terminal and by `hpsearch status`."""
    lines = [_counts(snap), _best(snap), f"{snap.epochs} epochs | {_time(snap)}"]
    if _resources(snap):
        lines[-1] += f" | {_resources(snap)} in use"
    return lines

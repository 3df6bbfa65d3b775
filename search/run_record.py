"""Keep the run log (`analysis.run_log`): each launch and resume, and why it ended, as it happened.

The end is decided from what Ray returns (public `ResultGrid` counts) and the time used over all runs:
all trials finished, the time budget reached, interrupted (Ctrl-C: trials left unfinished) or failed.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from analysis.errors import ExperimentError
from analysis.experiment_config import ExperimentConfig
from analysis.run_log import ALL_DONE, END, FAILED, INTERRUPTED, TIME_BUDGET, event_line, read_run_log

from .experiment_dir import append_run_log

SLACK_S = 1.0  # Ray starts its clock a moment after ours: within this, the budget counts as used up


class NothingToResume(ExperimentError):
    """The search ended as asked (its time budget is used up): resuming would start nothing."""


def time_used(exp_path: str) -> float:
    """Seconds the experiment has run so far, over every launch and resume recorded in its run log."""
    from analysis.load import load_experiment

    exp = load_experiment(exp_path)
    reports = list(exp.epochs["timestamp"]) if "timestamp" in exp.epochs else []
    return read_run_log(exp_path).used_s(reports)


def end_reason(grid: Any, cfg: ExperimentConfig, used_s: float) -> str:
    """Why a run that returned normally ended, from Ray's `ResultGrid` and the time used over all runs."""
    if grid.num_terminated + grid.num_errors < len(grid):
        return INTERRUPTED  # Ray returns (not raises) after Ctrl-C, leaving trials unfinished
    if len(grid) >= cfg.budget.num_samples:
        return ALL_DONE
    budget = cfg.budget.time_budget_s
    return TIME_BUDGET if budget is not None and used_s >= budget - SLACK_S else INTERRUPTED


@contextmanager
def recorded_run(exp_path: str, kind: str, cfg: ExperimentConfig, used_before_s: float = 0.0
                 ) -> Iterator[Callable[[Any], None]]:
    """Log the start of a run, then its end; the body hands over what `Tuner.fit()` returned."""
    append_run_log(exp_path, event_line(kind, num_samples=cfg.budget.num_samples,
                                        time_budget_s=cfg.budget.time_budget_s))
    started = time.time()
    grids: list[Any] = []  # what Tuner.fit() returned (a ResultGrid), once the body hands it over
    try:
        yield grids.append
    except KeyboardInterrupt:
        append_run_log(exp_path, event_line(END, reason=INTERRUPTED))
        raise
    except BaseException as e:
        append_run_log(exp_path, event_line(END, reason=FAILED, error=f"{type(e).__name__}: {e}"[:300]))
        raise
    used = used_before_s + time.time() - started
    reason = end_reason(grids[-1], cfg, used) if grids else INTERRUPTED
    append_run_log(exp_path, event_line(END, reason=reason, used_s=round(used, 1)))

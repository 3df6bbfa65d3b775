"""How a trial ended, named once: from its Ray status and its last reported result.

`ended` gives the detailed outcome shown in leaderboards and reports; `state_of` folds it into the
five states of the progress view and `hpsearch status`; `describe_end` says in words what happened.
"""
from __future__ import annotations

import math
from typing import Any

from trainables.schema import DEADLINE as DEADLINE_FLAG
from trainables.schema import DIVERGED as DIVERGED_KEY
from trainables.schema import EPOCH, ERROR_KEY, PATIENCE, PROJECTED_EPOCH_SECONDS, STOPPED_BY, VIOLATED
from trainables.schema import INFEASIBLE as INFEASIBLE_FLAG
from trainables.schema import TOO_SLOW as TOO_SLOW_FLAG

# how a trial ended (the `ended` column)
COMPLETED = "completed"
STOPPED_ASHA = "stopped by ASHA"
STOPPED_PATIENCE = "early stopping (patience)"
TOO_SLOW = "too slow (first epoch over budget.max_epoch_seconds)"
INFEASIBLE = "infeasible (search.constraints)"
ERRORED = "errored"
DIVERGED = "diverged"
DEADLINE = "not started: its first stage could not end before the deadline"
UNFINISHED = "unfinished"
PENDING = "pending"

# the five states of the progress view
DONE, RUNNING, STOPPED, ERRORED_STATE, PENDING_STATE = "done", "running", "stopped early", "errored", "pending"
_STATE = {COMPLETED: DONE, STOPPED_ASHA: STOPPED, STOPPED_PATIENCE: STOPPED, DIVERGED: STOPPED, TOO_SLOW: STOPPED,
          DEADLINE: STOPPED,
          INFEASIBLE: STOPPED,
          ERRORED: ERRORED_STATE, PENDING: PENDING_STATE, UNFINISHED: RUNNING}


def ended(status: str | None, last: dict[str, Any], epochs: int, max_epochs: int) -> str:
    """How a trial ended, from its Ray status and its last reported result."""
    if status == "ERROR" or last.get(ERROR_KEY):
        return ERRORED
    if last.get(DIVERGED_KEY):
        return DIVERGED
    if last.get(STOPPED_BY) == PATIENCE:
        return STOPPED_PATIENCE
    if last.get(STOPPED_BY) == TOO_SLOW_FLAG:
        return TOO_SLOW
    if last.get(STOPPED_BY) == DEADLINE_FLAG:
        return DEADLINE
    if last.get(STOPPED_BY) == INFEASIBLE_FLAG:
        return INFEASIBLE
    if status == "TERMINATED":
        return COMPLETED if epochs >= max_epochs else STOPPED_ASHA
    if status in ("PENDING", None) and epochs == 0:
        return PENDING
    return UNFINISHED


def state_of(outcome: str) -> str:
    """One of the five progress states (done, running, stopped early, errored, pending) for an `ended` value."""
    return _STATE.get(outcome, RUNNING)


def describe_end(outcome: str, last: dict[str, Any], metric: str, epoch_limit_s: float | None = None) -> str:
    """What happened to a trial that just ended, in words, e.g. 'stopped as too slow: ...'."""
    if outcome == TOO_SLOW:
        projected = last.get(PROJECTED_EPOCH_SECONDS)
        shown = f"{projected:.0f} s" if isinstance(projected, (int, float)) and math.isfinite(projected) else "?"
        limit = f"{epoch_limit_s:.0f} s " if epoch_limit_s else ""
        return f"stopped as too slow: its first epoch would take ~{shown}, over the limit of {limit}" \
               "(budget.max_epoch_seconds)"
    if outcome == DEADLINE:
        return "not started: its first stage could not end before the search's deadline"
    if outcome == INFEASIBLE:
        return f"infeasible after {int(last.get(EPOCH, 0) or 0)} epoch(s): {last.get(VIOLATED, '?')} (search.constraints)"
    value = last.get(metric)
    score = f"{metric}={value:.4f}" if isinstance(value, (int, float)) and math.isfinite(value) else f"{metric}=-"
    epochs = int(last.get(EPOCH, 0) or 0)
    words = {COMPLETED: "completed", STOPPED_ASHA: "stopped by ASHA", STOPPED_PATIENCE: "stopped by its patience",
             DIVERGED: "diverged (loss not finite)", ERRORED: "errored"}.get(outcome, "ended")
    return f"{words} after {epochs} epoch(s): {score}"

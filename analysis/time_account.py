"""The time account of a time-budgeted run (`budget.mode: time`): what was planned, and where the time went.

    planned  startup, search, final, evaluation, reserve      (sums to the budget)
    spent    startup, exploring, promoting, final, evaluation, overhead   (sums to the wall time)

"exploring" is the search's wall time spent in trials' first (cheapest) stage, "promoting" in their later
stages, split in proportion to the trials' own seconds; "overhead" is everything else (Ray stopping, the
gaps between the parts). Written by `hpsearch run`, read by `status`, `leaderboard` and the report.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from trainables.schema import STAGE

from .layout import TIME_ACCOUNT
from .location import AnyPath, as_path

PLANNED = ("startup", "search", "final", "evaluation", "reserve")
SPENT = ("startup", "exploring", "promoting", "final", "evaluation", "overhead")


@dataclass
class TimeAccount:
    budget_s: float
    planned: dict[str, float]
    spent: dict[str, float] = field(default_factory=dict)   # empty while the run is going
    wall_s: float | None = None                             # the whole run, once it has ended
    final: dict[str, Any] = field(default_factory=dict)     # trial_id, epochs, test_acc, bundle
    plan: dict[str, Any] = field(default_factory=dict)      # the plan's details: stages, throughput

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def write_time_account(folder: str | Path, account: TimeAccount) -> AnyPath:
    path = as_path(str(folder)) / TIME_ACCOUNT  # a local folder or one in object storage
    path.write_text(json.dumps(account.to_dict(), indent=2))
    return path


def read_time_account(folder: str | Path | AnyPath) -> TimeAccount | None:
    """The account, or None for an experiment that is not time-budgeted (or was written before accounts)."""
    path = as_path(str(folder)) / TIME_ACCOUNT  # a local folder or one in object storage
    if not path.is_file():
        return None
    try:
        return TimeAccount(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None


def search_split(epochs: pd.DataFrame, search_s: float) -> tuple[float, float]:
    """(exploring, promoting) seconds of the search's `search_s` wall seconds, by the trials' own time per stage."""
    if epochs.empty or STAGE not in epochs or "time_this_iter_s" not in epochs:
        return search_s, 0.0
    first = epochs[STAGE] == 0
    cheap, later = float(epochs.loc[first, "time_this_iter_s"].sum()), float(epochs.loc[~first, "time_this_iter_s"].sum())
    if cheap + later <= 0:
        return search_s, 0.0
    return search_s * cheap / (cheap + later), search_s * later / (cheap + later)


def render_time_account(acc: TimeAccount) -> list[str]:
    """Lines for a terminal: the budget, planned vs spent per part, and the final model's test accuracy."""
    head = f"time budget {acc.budget_s:.0f} s"
    if acc.wall_s is not None:
        head += f": whole run {acc.wall_s:.1f} s ({100 * acc.wall_s / acc.budget_s:.1f}% of the budget)"
    lines = [head, "  planned: " + ", ".join(f"{k} {acc.planned.get(k, math.nan):.1f} s" for k in PLANNED)]
    if acc.spent:
        lines.append("  spent:   " + ", ".join(f"{k} {acc.spent.get(k, math.nan):.1f} s" for k in SPENT))
    if acc.final:
        f = acc.final
        lines.append(f"  final: trial {f.get('trial_id')} ({f.get('chosen', 'best')}) retrained {f.get('epochs')} "
                     f"epochs on train+validation, test accuracy {f.get('test_acc', math.nan):.4f}, bundle {f.get('bundle')}")
    return lines

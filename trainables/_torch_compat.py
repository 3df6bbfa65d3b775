"""Every use of torch internals in hpsearch, in one place.

torch's OneCycleLR has no public way to change its length once built: the steps where its phases end
live in `_schedule_phases` (a list of dicts with "end_step"; state_dict saves it, so a resized schedule
resumes resized). Checked against torch 2.14.1; the contract test (tests/search_tests/test_compat.py)
fails naming the attribute when a release moves it.
"""
from __future__ import annotations

from typing import Any

from torch.optim.lr_scheduler import OneCycleLR

CHECKED = "torch 2.14.1"  # read in, and tested against, this version


def one_cycle_phases(schedule: OneCycleLR) -> list[dict[str, Any]]:
    """The phases of a one-cycle schedule, each with its "end_step" (a float step), in order; mutable."""
    phases: list[dict[str, Any]] = schedule._schedule_phases  # type: ignore[assignment]  # TypedDicts
    return phases

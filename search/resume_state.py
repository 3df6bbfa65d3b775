"""Checks and repairs around Ray Tune's restore: validate saved state first, replay ASHA rungs.

A restore from a damaged state file must stop with the file's name and change nothing on disk;
Ray alone would silently start a fresh experiment in its place.
"""
from __future__ import annotations

import json
import pickle
from collections.abc import Iterator

from analysis.layout import RESULT_FILE, STATE_PATTERNS, TUNER_FILE, newest, read_results
from analysis.location import AnyPath


class DamagedStateError(RuntimeError):
    """A saved search state file that cannot be read; names the file."""


def validate_state(exp: AnyPath) -> None:
    """Read every state file Ray will restore from; raise DamagedStateError naming the first bad one."""
    state = newest(exp, STATE_PATTERNS[0])
    if state is None:
        raise DamagedStateError(f"{exp}: no experiment_state-*.json, so there is nothing to resume")
    try:
        data = json.loads(state.read_text())
        if not isinstance(data.get("trial_data"), list):
            raise ValueError("no trial_data list")
    except (OSError, ValueError) as e:
        raise DamagedStateError(f"{state}: damaged experiment state ({type(e).__name__}: {e})") from None
    for pattern in STATE_PATTERNS[1:] + (TUNER_FILE,):
        path = newest(exp, pattern)
        if path is None:
            raise DamagedStateError(f"{exp}: {pattern} is missing")
        try:
            pickle.loads(path.read_bytes())  # noqa: S301 - Ray unpickles it next; resume only experiments you trust
        except Exception as e:  # noqa: BLE001 - any failure to read means damaged
            raise DamagedStateError(f"{path}: damaged ({type(e).__name__}: {e})") from None


def recorded_history(exp: AnyPath, metric: str) -> Iterator[tuple[str, int, float]]:
    """(trial_id, epoch, metric) of every recorded epoch result, in the order they were reported."""
    rows = []
    for result in exp.glob(f"*/{RESULT_FILE}"):
        for r in read_results(result):
            value = r.get(metric)
            if "epoch" in r and isinstance(value, (int, float)) and "trial_id" in r:
                rows.append((r.get("timestamp", 0), r.get("time_total_s", 0), r["trial_id"], int(r["epoch"]), value))
    rows.sort()
    for _, _, trial_id, epoch, value in rows:
        yield trial_id, epoch, value

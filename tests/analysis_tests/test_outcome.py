"""How a trial ended, in one place: the outcome names, the five progress states, and the words for each end."""
from __future__ import annotations

import math

from analysis.outcome import (
    COMPLETED,
    DIVERGED,
    ERRORED,
    PENDING,
    STOPPED_ASHA,
    TOO_SLOW,
    UNFINISHED,
    describe_end,
    ended,
    state_of,
)


def test_outcomes_from_status_and_last_result():
    assert ended("TERMINATED", {"epoch": 4}, 4, 4) == COMPLETED
    assert ended("TERMINATED", {"epoch": 2}, 2, 4) == STOPPED_ASHA
    assert ended("TERMINATED", {"epoch": 0, "stopped_by": "too_slow"}, 0, 4) == TOO_SLOW
    assert ended("TERMINATED", {"epoch": 1, "diverged": 1}, 1, 4) == DIVERGED
    assert ended("RUNNING", {"error": "ValueError: x"}, 1, 4) == ERRORED
    assert ended("PENDING", {}, 0, 4) == PENDING and ended("RUNNING", {"epoch": 1}, 1, 4) == UNFINISHED
    assert [state_of(o) for o in (COMPLETED, STOPPED_ASHA, TOO_SLOW, ERRORED, PENDING, UNFINISHED)] == \
        ["done", "stopped early", "stopped early", "errored", "pending", "running"]


def test_a_too_slow_trial_is_described_with_its_projection_and_the_limit():
    last = {"epoch": 0, "val_acc": math.nan, "stopped_by": "too_slow", "projected_epoch_seconds": 131.7}
    text = describe_end(TOO_SLOW, last, "val_acc", 30.0)
    assert text == ("stopped as too slow: its first epoch would take ~132 s, over the limit of 30 s "
                    "(budget.max_epoch_seconds)")
    assert "nan" not in text


def test_other_ends_name_the_outcome_epochs_and_score():
    assert describe_end(COMPLETED, {"epoch": 4, "val_acc": 0.91234}, "val_acc") == \
        "completed after 4 epoch(s): val_acc=0.9123"
    assert describe_end(STOPPED_ASHA, {"epoch": 1, "val_acc": 0.5}, "val_acc") == \
        "stopped by ASHA after 1 epoch(s): val_acc=0.5000"
    assert describe_end(DIVERGED, {"epoch": 2, "val_acc": math.nan}, "val_acc").startswith("diverged")

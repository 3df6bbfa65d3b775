"""The run log read back as it was: runs, how each ended, and the time a search has run over all of them."""
from __future__ import annotations

import json

import pytest

from analysis.layout import RUN_LOG
from analysis.run_log import INTERRUPTED, TIME_BUDGET, read_run_log


def _write(folder, events):
    (folder / RUN_LOG).write_text("".join(json.dumps(e) + "\n" for e in events) + '{"event": "end", "ti')


def test_runs_their_ends_and_the_time_used(tmp_path):
    _write(tmp_path, [
        {"event": "launch", "time": 1000.0, "num_samples": 8, "time_budget_s": 600},
        {"event": "end", "time": 1100.0, "reason": INTERRUPTED},
        {"event": "resume", "time": 5000.0, "num_samples": 12, "time_budget_s": 600},   # killed: no end record
        {"event": "resume", "time": 9000.0, "num_samples": 12, "time_budget_s": 600},
        {"event": "end", "time": 9200.0, "reason": TIME_BUDGET},
    ])
    log = read_run_log(tmp_path)  # the last line, cut off by a crash, is ignored
    assert [(r.kind, r.reason) for r in log.runs] == [("launch", INTERRUPTED), ("resume", None),
                                                       ("resume", TIME_BUDGET)]
    assert log.runs[1].num_samples == 12 and log.finished_by_time_budget
    # the killed run counts up to its last trial report (5050), not to the next resume (9000)
    assert log.used_s(report_times=[1050.0, 5010.0, 5050.0, 9100.0]) == pytest.approx(100 + 50 + 200)


def test_a_run_in_progress_counts_to_now(tmp_path):
    _write(tmp_path, [{"event": "launch", "time": 1000.0, "num_samples": 8, "time_budget_s": None}])
    log = read_run_log(tmp_path)
    assert log.used_s([1030.0], now=1060.0, running=True) == pytest.approx(60)
    assert log.used_s([1030.0], now=1060.0, running=False) == pytest.approx(30)  # killed: to its last report


def test_a_folder_without_a_run_log_has_no_runs(tmp_path):
    assert read_run_log(tmp_path).runs == [] and read_run_log(tmp_path).used_s([5.0]) == 0.0

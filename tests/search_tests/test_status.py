"""`hpsearch status RESULTS_DIR`: the progress summary from disk, for a finished and a running search."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search.cli import main
from search.status import DONE, ERRORED, PENDING, RUNNING, STOPPED, from_disk

from .monitored import write_experiment

ROOT = Path(__file__).resolve().parents[2]


def _trial_dirs(path: Path) -> int:
    return sum(1 for d in path.glob("trial_*") if (d / "params.json").is_file())


@pytest.mark.slow
def test_status_of_a_finished_search(search, capsys):
    assert main(["status", str(search.path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].endswith(": finished (all trials finished)")
    assert re.fullmatch(r"launched \S+ \S+ \(3 trials\); ended \S+ \S+ \(all trials finished\) after \d:\d\d:\d\d",
                        out.splitlines()[1]), out
    assert "3/3 trials:" in out and "0 running" in out and "0 pending" in out
    snap = from_disk(search.path)
    assert snap.trials == _trial_dirs(search.path) == 3
    assert snap.count(DONE) + snap.count(STOPPED) == 3 and snap.finished
    assert f"best val_acc={snap.best:.4f} (trial {snap.best_trial}" in out
    assert main(["status", str(search.path), "--oneline"]) == 0
    assert capsys.readouterr().out.count("\n") == 1


def test_status_of_a_folder_that_is_no_experiment(tmp_path, capsys):
    assert main(["status", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not an hpsearch experiment" in err and "Traceback" not in err


@pytest.mark.slow
def test_status_of_a_running_search(tmp_path, idx_dir):
    exp = write_experiment(tmp_path, idx_dir, "running", num_samples=3)
    path = tmp_path / "results" / "running"
    # Ray writes its experiment state every few seconds ("auto"); every second keeps the poll short
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNE_GLOBAL_CHECKPOINT_S": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "search.cli", "run", str(exp), "--progress-every", "2"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen_in_progress = []
    try:
        deadline = time.time() + 240
        while proc.poll() is None and time.time() < deadline:
            time.sleep(1)
            before = _trial_dirs(path) if path.is_dir() else 0
            if not (path / "hpsearch.yaml").is_file():
                continue
            snap = from_disk(path)
            after = _trial_dirs(path)
            if before != after:
                continue  # a trial folder appeared while reading: look again
            started = snap.count(DONE) + snap.count(STOPPED) + snap.count(ERRORED) + snap.count(RUNNING)
            # every trial folder on disk is counted once; trials Ray created but has not started are pending
            assert started == after, (snap.counts, after)
            assert snap.trials <= snap.budget == 3
            if started and not snap.finished and proc.poll() is None:
                seen_in_progress.append(snap)
        out, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert seen_in_progress, "status never saw the search while it ran"
    assert any(s.count(RUNNING) or s.count(PENDING) for s in seen_in_progress)
    final = from_disk(path)
    assert final.finished and final.trials == _trial_dirs(path) == 3


@pytest.mark.slow
def test_a_time_budget_search_is_reported_as_it_ended_and_resume_starts_nothing(make_experiment, idx_dir, ray_session,
                                                                                 capsys):
    """The run log, not a file's mtime: status says "finished (time budget reached)" with the time it ran,
    and resume says there is nothing to resume (Ray would restart, stop at once and say nothing)."""
    from analysis.run_log import TIME_BUDGET, read_run_log

    exp = make_experiment("timed", dataset={"data_dir": str(idx_dir), "train_subset": None},
                          budget={"num_samples": 500, "max_epochs": 1, "time_budget_s": 15})
    path = exp.parent / "results" / "timed"
    assert main(["run", str(exp), "--progress-every", "60"]) == 0
    [launch] = read_run_log(path).runs
    assert launch.kind == "launch" and launch.reason == TIME_BUDGET and 15 <= launch.ended - launch.started < 40
    (path / "hpsearch.yaml").touch()  # `resume --num-samples` rewrites it: the clock must not restart
    capsys.readouterr()
    assert main(["status", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith(": finished (time budget reached)"), out
    snap = from_disk(path)
    assert snap.finished and snap.elapsed_s == pytest.approx(launch.ended - launch.started, abs=0.01)
    trials = _trial_dirs(path)

    assert main(["resume", str(path)]) == 0
    said = capsys.readouterr().out
    assert "its time budget (15 s) is used up" in said and "nothing to resume" in said, said
    assert _trial_dirs(path) == trials and len(read_run_log(path).runs) == 1  # nothing started

    assert main(["resume", str(path), "--num-samples", "600"]) == 0  # more trials, but no time to run them
    assert "nothing to resume" in capsys.readouterr().out
    assert _trial_dirs(path) == trials and len(read_run_log(path).runs) == 1
    assert from_disk(path).budget == 500  # the saved budget is unchanged: nothing was resumed

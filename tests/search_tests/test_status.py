"""`hpsearch status RESULTS_DIR`: the progress summary from disk, for a finished and a running search."""
from __future__ import annotations

import os
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
    assert out.splitlines()[0].endswith(": finished")
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

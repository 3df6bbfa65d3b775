"""SIGKILL the search driver mid-run, then `hpsearch resume` finishes it without losing or redoing work."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import yaml

from analysis import load_experiment
from analysis.load import COMPLETED, STOPPED_ASHA
from search.experiment_dir import read_results
from search.resume_state import newest
from search.study_storage import load_experiment_study

ROOT = Path(__file__).resolve().parents[2]
NUM_SAMPLES = 6


def cli(*args: str, **kw) -> subprocess.Popen:
    # Ray's record of the trials (experiment_state-*.json) is saved every second, not every 10 s or more: the
    # kill points below read it, and a search of a few small trials can finish between two 10 s saves
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
           "TUNE_GLOBAL_CHECKPOINT_S": "1"}
    return subprocess.Popen([sys.executable, "-m", "search.cli", *args], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def recorded(exp: Path) -> dict[str, str]:
    """Each trial's status in Ray's newest record of the experiment (trials started since are not in it)."""
    state = newest(exp, "experiment_state-*.json")
    if state is None:
        return {}
    try:
        data = json.loads(state.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    return {json.loads(t)["trial_id"]: json.loads(t)["status"] for t, _ in data["trial_data"]}


def terminated(exp: Path) -> set[str]:
    return {trial for trial, status in recorded(exp).items() if status == "TERMINATED"}


def kill_search(proc: subprocess.Popen, exp: Path) -> None:
    """SIGKILL the driver like a crash, then wait until nothing writes into the experiment any more.

    Ray's own processes (raylet, the trial workers) run in their own sessions and outlive a killed
    driver for a few seconds; a worker may still write a checkpoint. Kill them too (their command
    lines name the driver's session folder, which ends in the driver's pid), then wait for quiet.
    """
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    subprocess.run(["pkill", "-9", "-f", f"session_[0-9_-]*_{proc.pid}"], check=False)
    stable_since, last = time.time(), None
    deadline = time.time() + 60
    while time.time() - stable_since < 3 and time.time() < deadline:
        now = sorted((str(p), p.stat().st_size) for p in exp.rglob("*") if p.is_file())
        if now != last:
            stable_since, last = time.time(), now
        time.sleep(0.3)


def checkpoints(exp: Path) -> int:
    return len(list(exp.glob("trial_*/checkpoint_*")))


KILL_WHEN = {
    # right after the first epoch of the first trial was checkpointed
    "early": lambda exp: checkpoints(exp) >= 1,
    # in the middle: some trials finished, others running
    "mid": lambda exp: len(terminated(exp)) >= 2,
}


@pytest.mark.slow
@pytest.mark.parametrize("when", sorted(KILL_WHEN))
def test_sigkill_then_resume_finishes_exactly_the_budget(tmp_path, fashion_dir, when):
    exp_yaml = tmp_path / "exp.yaml"
    exp_yaml.write_text(yaml.safe_dump({
        "name": "killed", "storage": str(tmp_path / "results"), "space": "lenet5",
        "dataset": {"name": "fashion_mnist", "data_dir": str(fashion_dir), "train_subset": 6000, "val_fraction": 0.2},
        "budget": {"num_samples": NUM_SAMPLES, "max_epochs": 3, "grace_period": 1, "reduction_factor": 2},
        "search": {"seed": 1}, "resources": {"cpus_per_trial": 1, "max_concurrent": 2},
    }))
    exp = tmp_path / "results" / "killed"
    proc = cli("run", str(exp_yaml))
    deadline = time.time() + 240
    while not KILL_WHEN[when](exp):
        assert proc.poll() is None, f"search ended before the kill point:\n{proc.stdout.read()}"
        assert time.time() < deadline, "kill point never reached"
        time.sleep(0.2)
    kill_search(proc, exp)
    done_before = terminated(exp)
    frozen = {d: (exp / f"trial_{d}" / "result.json").read_bytes() for d in done_before}
    assert len(done_before) < NUM_SAMPLES

    resumed = cli("resume", str(exp))
    out, _ = resumed.communicate(timeout=400)
    assert resumed.returncode == 0, out

    params = [json.loads(p.read_text()) for p in exp.glob("trial_*/params.json")]
    assert len(params) == NUM_SAMPLES
    configs = {json.dumps({k: v for k, v in p.items() if k != "seed"}, sort_keys=True) for p in params}
    assert len(configs) == NUM_SAMPLES, "every trial has its own configuration"
    for d, content in frozen.items():
        assert (exp / f"trial_{d}" / "result.json").read_bytes() == content, f"finished trial {d} was touched"
    table = load_experiment(exp).trials
    assert len(table) == NUM_SAMPLES
    assert set(table["ended"]) <= {COMPLETED, STOPPED_ASHA}, table[["trial_id", "ended"]]
    for result in exp.glob("trial_*/result.json"):
        epochs = [r["epoch"] for r in read_results(result)]
        assert epochs[0] == 1 and max(epochs) <= 3
        assert all(b >= a for a, b in zip(epochs, epochs[1:])), f"epochs restarted in {result}: {epochs}"
    study = load_experiment_study(exp, "killed")
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]

    # a second resume of the finished search launches nothing
    before = {p: p.read_bytes() for p in exp.glob("trial_*/result.json")}
    again = cli("resume", str(exp))
    out, _ = again.communicate(timeout=300)
    assert again.returncode == 0, out
    assert {p: p.read_bytes() for p in exp.glob("trial_*/result.json")} == before

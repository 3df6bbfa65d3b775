"""Diverging and out-of-memory trials are recorded for what they are; the search goes on."""
from __future__ import annotations

import math

import optuna
import pytest

from analysis import leaderboard, load_experiment
from search.cli import main
from search.experiment_dir import read_results
from search.study_storage import load_experiment_study

SPACE = """
name: faults
params:
  family: {type: const, value: mlp}
  mlp_layers: {type: const, value: 1}
  mlp_units_1: {type: categorical, choices: [128, 100000000000]}
  optimizer: {type: categorical, choices: [adam, sgd]}
  lr: {type: float, low: 1.0e-4, high: 1.0e+12, log: true}
  l1: {type: categorical, choices: [0.0, 1.0e+38]}
warm_start:
  - {mlp_units_1: 128, optimizer: sgd, lr: 1.0e+12, l1: 0.0}            # NaN loss
  - {mlp_units_1: 128, optimizer: adam, lr: 1.0e-3, l1: 1.0e+38}        # infinite loss
  - {mlp_units_1: 100000000000, optimizer: adam, lr: 1.0e-3, l1: 0.0}   # 314 TB of weights: out of memory
  - {mlp_units_1: 128, optimizer: adam, lr: 1.0e-3, l1: 0.0}            # healthy
"""


@pytest.mark.slow
def test_diverged_and_oom_trials(tmp_path, make_experiment, fashion_dir, ray_session):
    space = tmp_path / "faults_space.yaml"
    space.write_text(SPACE)
    exp_yaml = make_experiment("faults", space=str(space), dataset={"data_dir": str(fashion_dir), "train_subset": 600},
                               budget={"num_samples": 4, "max_epochs": 3, "grace_period": 3},
                               resources={"cpus_per_trial": 1, "max_concurrent": 1, "max_failures": 2})
    assert main(["run", str(exp_yaml)]) == 0
    exp_dir = tmp_path / "results" / "faults"
    exp = load_experiment(exp_dir)
    t = exp.trials.set_index(exp.trials["config/mlp_units_1"].astype(str) + "/" + exp.trials["config/lr"].astype(str)
                             + "/" + exp.trials["config/l1"].astype(str))
    nan_t, inf_t = t.loc["128/1000000000000.0/0.0"], t.loc["128/0.001/1e+38"]
    oom_t, ok_t = t.loc["100000000000/0.001/0.0"], t.loc["128/0.001/0.0"]
    for diverged in (nan_t, inf_t):
        assert diverged["ended"] == "diverged" and diverged["epochs"] == 1  # stopped within its first epoch
        assert math.isnan(diverged["best_val_acc"])
    assert oom_t["ended"] == "errored" and "allocate" in oom_t["error"]
    rows = read_results(exp_dir / f"trial_{oom_t['trial_id']}" / "result.json")
    assert len(rows) == 1 and oom_t["num_failures"] == 0, "one attempt, not retried with the same config"
    assert ok_t["ended"] == "completed" and ok_t["epochs"] == 3
    board = leaderboard(exp)
    assert board.iloc[0]["trial_id"] == ok_t["trial_id"] and math.isfinite(board.iloc[0]["val_acc"])
    study = load_experiment_study(exp_dir, "faults")
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.FAIL) == 3 and states.count(optuna.trial.TrialState.COMPLETE) == 1

"""A configuration too costly for the budget is stopped in seconds, recorded as such, and steers TPE away."""
from __future__ import annotations

import math

import optuna
import pytest

from analysis import leaderboard, load_experiment
from search.cli import main
from search.experiment_dir import read_results
from search.status import STOPPED, from_disk
from search.study_storage import load_experiment_study

SPACE = """
name: slow_or_not
params:
  family: {type: const, value: cnn}
  conv_blocks: {type: int, low: 1, high: 1}
  filters: {type: categorical, choices: [8, 256], per_block: conv_blocks}
  convs_per_block: {type: const, value: 2}
  kernel_size: {type: const, value: 5}
  batch_size: {type: const, value: 64}
warm_start:
  - {conv_blocks: 1, filters_1: 256}   # two 5x5 convolutions of 256 filters at 28x28: minutes an epoch on 1 core
  - {conv_blocks: 1, filters_1: 8}     # seconds an epoch
"""
LIMIT = 15.0


@pytest.mark.slow
def test_a_too_slow_trial_stops_within_seconds_and_the_search_goes_on(tmp_path, make_experiment, fashion_dir,
                                                                      ray_session, capsys):
    space = tmp_path / "slow_space.yaml"
    space.write_text(SPACE)
    exp_yaml = make_experiment("slow", space=str(space), dataset={"data_dir": str(fashion_dir), "train_subset": 3000},
                               budget={"num_samples": 2, "max_epochs": 2, "max_epoch_seconds": LIMIT},
                               resources={"cpus_per_trial": 1, "max_concurrent": 1})
    assert main(["run", str(exp_yaml)]) == 0
    exp_dir = tmp_path / "results" / "slow"
    exp = load_experiment(exp_dir)
    t = exp.trials.set_index("config/filters_1")
    slow, fast = t.loc[256], t.loc[8]
    assert slow["ended"].startswith("too slow") and slow["epochs"] == 0 and math.isnan(slow["best_val_acc"])
    rows = read_results(exp_dir / f"trial_{slow['trial_id']}" / "result.json")
    assert len(rows) == 1 and rows[0]["projected_epoch_seconds"] > LIMIT
    # the live progress says what happened, not "ended after 0 epoch(s): val_acc=nan"
    out = capsys.readouterr().out
    projected = f"{rows[0]['projected_epoch_seconds']:.0f}"
    assert (f"trial {slow['trial_id']} ended: stopped as too slow: its first epoch would take ~{projected} s, "
            f"over the limit of {LIMIT:.0f} s (budget.max_epoch_seconds)") in out, out
    assert f"trial {fast['trial_id']} ended: completed after 2 epoch(s): val_acc=" in out
    # stopped once its projection was known, not at the end of the epoch: relative to the projection, so that a
    # loaded machine (slower start-up and slower steps alike) does not turn this into a timing test
    assert rows[0]["time_total_s"] < 0.5 * rows[0]["projected_epoch_seconds"], rows[0]
    assert not list((exp_dir / f"trial_{slow['trial_id']}").glob("checkpoint_*"))
    assert fast["ended"] == "completed" and fast["epochs"] == 2
    assert leaderboard(exp).iloc[0]["trial_id"] == fast["trial_id"]
    study = load_experiment_study(exp_dir, "slow")
    by_filters = {t.params["filters_1"]: t.state for t in study.trials}
    assert by_filters == {256: optuna.trial.TrialState.PRUNED, 8: optuna.trial.TrialState.COMPLETE}
    assert from_disk(exp_dir).count(STOPPED) == 1

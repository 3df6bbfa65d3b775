"""Importance: Optuna's evaluators on a study rebuilt from the trials table and the saved space."""
from __future__ import annotations

import pytest

from analysis import load_experiment
from analysis.importance import param_importances, rebuild_study
from spaces import load_space


@pytest.mark.slow
def test_rebuilt_study_mirrors_trials(finished_exp):
    exp = load_experiment(finished_exp)
    space = load_space(finished_exp / "space.yaml")
    study = rebuild_study(exp, space)
    assert sorted(t.value for t in study.trials) == sorted(exp.trials["best_val_acc"])
    for t in study.trials:
        row = exp.trials[exp.trials["best_val_acc"] == t.value].iloc[0]
        assert all(row[f"config/{k}"] == pytest.approx(v) if isinstance(v, float) else row[f"config/{k}"] == v
                   for k, v in t.params.items())
        assert "family" not in t.params  # a constant carries no information


@pytest.mark.slow
def test_importances_sum_to_one(finished_exp, errored_exp):
    table = param_importances(load_experiment(finished_exp), load_space(finished_exp / "space.yaml"))
    assert {"fanova", "mean_decrease_impurity"} <= set(table.columns)
    assert table.sum().to_numpy() == pytest.approx([1.0] * len(table.columns))
    assert "lr" in table.index
    errored = load_experiment(errored_exp)
    study = rebuild_study(errored, load_space(errored_exp / "space.yaml"))
    assert len(study.trials) == int((errored.trials["ended"] != "errored").sum())  # errored trials have no score

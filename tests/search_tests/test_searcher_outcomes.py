"""What Optuna is told about each way a trial ends (driven through the searcher's Ray callbacks)."""
from __future__ import annotations

import math
from pathlib import Path

import optuna
import pytest

from search.config import parse_config
from search.searcher import build_searcher
from search.study_storage import load_experiment_study
from spaces import get_preset

S = optuna.trial.TrialState


@pytest.fixture
def searcher(tmp_path: Path):
    cfg = parse_config({"name": "o", "space": "lenet5", "storage": str(tmp_path), "budget": {"num_samples": 8,
                        "max_epochs": 4}, "search": {"warm_start": False}}, "<test>")
    return build_searcher(cfg, get_preset("lenet5"), str(tmp_path))


def epoch(n: int, acc: float, **extra) -> dict:
    return {"epoch": n, "training_iteration": n, "val_acc": acc, **extra}  # as Ray hands them over


def outcome(searcher, trial_id: str, results: list[dict], final: dict) -> optuna.trial.FrozenTrial:
    searcher.suggest(trial_id)
    for r in results:
        searcher.on_trial_result(trial_id, r)
    searcher.on_trial_complete(trial_id, final)
    return searcher._ot_study.trials[searcher._ot_trials[trial_id].number]


def test_each_ending_is_told_to_optuna_for_what_it_is(searcher):
    done = outcome(searcher, "done", [epoch(e, 0.5 + e / 10) for e in (1, 2, 3)], epoch(4, 0.75))
    assert done.state == S.COMPLETE and done.value == pytest.approx(0.8)  # the best epoch, not the last
    asha = outcome(searcher, "asha", [], epoch(1, 0.3))
    assert asha.state == S.PRUNED and asha.intermediate_values == {1: 0.3}
    slow = outcome(searcher, "slow", [], epoch(0, math.nan, stopped_by="too_slow",
                                                                 projected_epoch_seconds=900.0))
    assert slow.state == S.PRUNED and slow.intermediate_values == {}
    diverged = outcome(searcher, "nan", [], epoch(1, math.nan, diverged=1))
    assert diverged.state == S.FAIL
    errored = outcome(searcher, "err", [], epoch(0, math.nan, error="RuntimeError: boom"))
    assert errored.state == S.FAIL


def test_tpe_ranks_a_too_slow_trial_below_every_reported_one(searcher):
    """Optuna's TPE splits pruned trials by the last step they reached; one with no steps sorts last."""
    from optuna.samplers._tpe.sampler import _get_pruned_trial_score

    outcome(searcher, "asha", [], epoch(1, 0.1))
    outcome(searcher, "slow", [], epoch(0, math.nan, stopped_by="too_slow"))
    study = searcher._ot_study
    asha, slow = (t for t in study.trials if t.state == S.PRUNED)
    assert _get_pruned_trial_score(slow, study) > _get_pruned_trial_score(asha, study)  # sorted ascending: worse


@pytest.mark.slow
def test_a_search_ended_by_its_deadline_leaves_no_trial_running_in_optuna(tmp_path, make_experiment, fashion_dir,
                                                                         ray_session):
    """Trials still training at the deadline are told: PRUNED at the epochs they reported, FAIL if none."""
    from search.cli import main

    exp_yaml = make_experiment("deadline", dataset={"data_dir": str(fashion_dir), "train_subset": 1000},
                               # far more epochs than 15 s allow, even on an idle machine (a LeNet epoch on
                               # 900 images takes well under a second): the deadline must cut every trial
                               budget={"num_samples": 4, "max_epochs": 5000, "grace_period": 5000,
                                       "time_budget_s": 15, "max_epoch_seconds": None},
                               resources={"cpus_per_trial": 1, "max_concurrent": 2})
    assert main(["run", str(exp_yaml)]) == 0
    study = load_experiment_study(tmp_path / 'results' / 'deadline', "deadline")
    assert study.trials, "the search created trials"
    assert [t.number for t in study.trials if t.state == S.RUNNING] == []
    for t in study.trials:
        assert t.state == (S.PRUNED if t.intermediate_values else S.FAIL), (t.number, t.state, t.intermediate_values)
    assert any(t.state != S.COMPLETE for t in study.trials), "the deadline fell while trials trained"


def test_every_running_trial_is_ended_by_what_it_reported(tmp_path: Path) -> None:
    from search.searcher import end_running_trials

    cfg = parse_config({"name": "ended", "space": "lenet5", "storage": str(tmp_path), "search": {"warm_start": False}},
                       "<test>")
    searcher = build_searcher(cfg, get_preset("lenet5"), str(tmp_path))
    searcher.suggest("reported")
    searcher.on_trial_result("reported", epoch(1, 0.4))
    searcher.on_trial_result("reported", epoch(2, 0.5))
    searcher.suggest("silent")
    searcher.suggest("done")
    searcher.on_trial_complete("done", epoch(4, 0.6))
    assert end_running_trials(cfg, str(tmp_path)) == 2
    study = load_experiment_study(tmp_path, "ended")
    by_values = {len(t.intermediate_values): t for t in study.trials}
    assert by_values[2].state == S.PRUNED and by_values[2].intermediate_values == {1: 0.4, 2: 0.5}
    assert by_values[0].state == S.FAIL
    assert by_values[1].state == S.COMPLETE, "a trial already told stays as it was"
    assert end_running_trials(cfg, str(tmp_path)) == 0


def test_a_resumed_trial_that_the_last_run_ended_continues_as_a_reopened_copy(tmp_path: Path) -> None:
    """A trial cut by the deadline (ended PRUNED) and continued by `resume` reports into a RUNNING copy."""
    from search.searcher import end_running_trials

    cfg = parse_config({"name": "again", "space": "lenet5", "storage": str(tmp_path),
                        "budget": {"num_samples": 8, "max_epochs": 4}, "search": {"warm_start": False}}, "<test>")
    first = build_searcher(cfg, get_preset("lenet5"), str(tmp_path))
    first.suggest("cut")
    first.on_trial_result("cut", epoch(1, 0.4))
    first.save(str(tmp_path / "searcher-state.pkl"))
    end_running_trials(cfg, str(tmp_path))  # the run ends at its deadline

    resumed = build_searcher(cfg, get_preset("lenet5"), str(tmp_path))
    resumed.restore(str(tmp_path / "searcher-state.pkl"))
    resumed.on_trial_result("cut", epoch(2, 0.5))
    resumed.on_trial_complete("cut", epoch(4, 0.6))
    study = load_experiment_study(tmp_path, "again")
    ended, copy = study.trials
    assert ended.state == S.PRUNED and ended.intermediate_values == {1: 0.4}
    assert copy.state == S.COMPLETE and copy.value == 0.6 and copy.params == ended.params
    assert copy.intermediate_values == {1: 0.4, 2: 0.5, 4: 0.6} and copy.user_attrs["continues_trial"] == ended.number

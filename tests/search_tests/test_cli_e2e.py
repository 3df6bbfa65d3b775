"""The CLI path on a real small search: run -> leaderboard -> resume (nothing left to do)."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis import load_experiment
from analysis.load import COMPLETED, STOPPED_ASHA, read_results
from search.cli import main
from search.study_storage import load_experiment_study


@pytest.fixture(scope="module")
def finished(tmp_path_factory, fashion_dir, ray_session):
    """One real search on Fashion-MNIST shared by the tests below (6 trials, ASHA over 3 epochs)."""
    import yaml

    root = tmp_path_factory.mktemp("e2e")
    exp = root / "exp.yaml"
    exp.write_text(yaml.safe_dump({
        "name": "e2e", "storage": str(root / "results"), "space": "lenet5",
        "dataset": {"name": "fashion_mnist", "data_dir": str(fashion_dir), "train_subset": 1500, "val_fraction": 0.2},
        "budget": {"num_samples": 6, "max_epochs": 3, "grace_period": 1, "reduction_factor": 2},
        "search": {"seed": 0}, "resources": {"cpus_per_trial": 1, "max_concurrent": 2},
    }))
    code = main(["run", str(exp)])
    assert code == 0
    return root / "results" / "e2e"


@pytest.mark.slow
def test_run_writes_every_trial_and_asha_stops_some(finished):
    trial_dirs = sorted(finished.glob("trial_*/params.json"))
    assert len(trial_dirs) == 6
    exp = load_experiment(finished)
    assert len(exp.trials) == 6 and set(exp.trials["status"]) == {"TERMINATED"}
    assert (exp.trials["ended"] == STOPPED_ASHA).sum() >= 1
    assert (exp.trials["ended"] == COMPLETED).sum() >= 1
    # every epoch reports the fixed schema
    for col in ("epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_f1_macro", "lr",
                "epoch_seconds", "samples_per_second"):
        assert exp.epochs[col].notna().all(), col


@pytest.mark.slow
def test_optuna_study_matches_what_trials_received(finished):
    """The study (optuna.journal) records, per trial, exactly the config the trainable got (minus constants)."""
    import optuna

    from spaces import get_preset

    study = load_experiment_study(finished, "e2e")
    assert len(study.trials) == 6
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
    configs = {json.loads(p.read_text())["seed"]: json.loads(p.read_text()) for p in finished.glob("trial_*/params.json")}
    for t in study.trials:
        received = configs[t.number]  # seed = experiment seed * 100003 + trial number (seed 0 here)
        assert t.params == {k: v for k, v in received.items() if k not in ("seed", "family")}
    # trial 0 is the preset's warm start: the hand-tuned LeNet-5 (Adam 1e-3, batch 128)
    assert study.trials[0].params == {k: v for k, v in get_preset("lenet5").warm_start[0].items()}
    # ASHA-stopped trials are PRUNED in Optuna (scored at their fidelity), full ones COMPLETE
    states = {t.state for t in study.trials}
    assert states <= {optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED}
    assert optuna.trial.TrialState.PRUNED in states


@pytest.mark.slow
def test_leaderboard_lists_every_trial_once_in_metric_order(finished, capsys, tmp_path):
    csv = tmp_path / "lb.csv"
    assert main(["leaderboard", str(finished), "--csv", str(csv)]) == 0
    out = capsys.readouterr().out
    board = pd.read_csv(csv)
    assert sorted(board["trial_id"]) == sorted(p.parent.name.removeprefix("trial_")
                                               for p in finished.glob("trial_*/params.json"))
    assert board["trial_id"].is_unique and list(board["rank"]) == list(range(1, 7))
    assert board["val_acc"].is_monotonic_decreasing
    for col in ("rank", "trial_id", "val_acc", "val_f1_macro", "epochs", "ended", "params"):
        assert col in out
    # independently: best val_acc per trial from the raw result files
    best = {}
    for d in finished.glob("trial_*"):
        rows = read_results(d / "result.json")
        best[rows[-1]["trial_id"]] = max(r["val_acc"] for r in rows)
    assert dict(zip(board["trial_id"], board["val_acc"])) == pytest.approx(best)
    assert board.iloc[0]["trial_id"] in out.splitlines()[1]


@pytest.mark.slow
def test_resume_of_a_finished_search_changes_nothing(finished):
    before = {p: p.read_bytes() for p in finished.glob("trial_*/result.json")}
    assert main(["resume", str(finished)]) == 0
    after = {p: p.read_bytes() for p in finished.glob("trial_*/result.json")}
    assert after == before


def test_leaderboard_of_a_non_experiment_is_a_clear_error(tmp_path, capsys):
    assert main(["leaderboard", str(tmp_path)]) == 2
    assert "is not an hpsearch experiment" in capsys.readouterr().err


@pytest.mark.slow
def test_resume_num_samples_grows_a_finished_search(finished):

    before = {p.parent.name: p.read_bytes() for p in finished.glob("trial_*/result.json")}
    assert len(before) == 6
    assert main(["resume", str(finished), "--num-samples", "10"]) == 0
    after = {p.parent.name: p.read_bytes() for p in finished.glob("trial_*/result.json")}
    assert len(after) == 10
    assert {k: after[k] for k in before} == before, "the first 6 trials are untouched"
    study = load_experiment_study(finished, "e2e")
    assert len(study.trials) == 10
    assert load_experiment(finished).config["budget"]["num_samples"] == 10

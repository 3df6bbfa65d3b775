"""--mlflow: each trial becomes an MLflow run; read back through MLflow's own client."""
from __future__ import annotations

import json

import pytest

from analysis.load import read_results
from search.cli import main


@pytest.mark.slow
def test_runs_match_results_on_disk(search):
    from mlflow import MlflowClient

    assert search.returncode == 0, search.output
    client = MlflowClient(search.mlflow_uri)
    exp = client.get_experiment_by_name(search.name)
    runs = client.search_runs([exp.experiment_id])
    trial_dirs = sorted(d for d in search.path.iterdir() if (d / "params.json").is_file())
    assert len(runs) == len(trial_dirs) == 3
    by_trial = {d.name.removeprefix("trial_"): d for d in trial_dirs}
    for run in runs:
        trial_id = next(t for t in by_trial if t in run.data.tags["trial_name"])
        d = by_trial.pop(trial_id)
        params = json.loads((d / "params.json").read_text())
        assert run.data.params == {k: str(v) for k, v in params.items()}
        rows = read_results(d / "result.json")
        history = client.get_metric_history(run.info.run_id, "val_acc")
        history = sorted(history, key=lambda m: m.step)
        assert [m.step for m in history] == [r["training_iteration"] for r in rows]
        assert [m.value for m in history] == pytest.approx([r["val_acc"] for r in rows])
        assert [m.value for m in client.get_metric_history(run.info.run_id, "epoch")] == [r["epoch"] for r in rows]
        assert run.info.status == "FINISHED"
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert "result.json" in artifacts and "params.json" in artifacts
    assert not by_trial


def test_bad_tracking_uri_fails_before_training(make_experiment, capsys):
    code = main(["run", str(make_experiment()), "--mlflow", "nosuchscheme://x"])
    err = capsys.readouterr().err
    assert code == 2 and "error: --mlflow nosuchscheme://x: cannot use this MLflow tracking URI" in err
    assert "Traceback" not in err

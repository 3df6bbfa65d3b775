"""Optional experiment trackers beyond TensorBoard: MLflow, through Ray's own MLflow callback.

TensorBoard needs nothing here: Ray Tune's default `TBXLoggerCallback` writes each trial's
per-epoch scalars and, when the trial ends, its hyperparameters in the HParams format into
the trial folder, so `tensorboard --logdir RESULTS_DIR` shows one run per trial.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .launch import LaunchError

SQLITE = "sqlite:///"


def mlflow_callback(tracking_uri: str, experiment_name: str) -> Any:
    """A Tune callback logging each trial as an MLflow run: params, per-epoch metrics, trial folder as artifacts.

    Example: `mlflow_callback("sqlite:///mlflow.db", "quickstart")`, or an `http://host:5000` tracking server.
    """
    try:
        import mlflow  # noqa: F401 - only to give a clear message when the extra is missing
    except ImportError:
        raise LaunchError(f"--mlflow {tracking_uri}: MLflow is not installed; "
                          "install it with pip install 'hpsearch[mlflow]'") from None
    from ray.air.integrations.mlflow import MLflowLoggerCallback

    logging.getLogger("mlflow").setLevel(logging.WARNING)  # its database set-up lines are noise here
    ensure_experiment(tracking_uri, experiment_name)
    # tags are the same on every run; the trial id is in each run's name and `trial_name` tag
    return MLflowLoggerCallback(tracking_uri=tracking_uri, experiment_name=experiment_name,
                                tags={"hpsearch.experiment": experiment_name}, save_artifact=True)


def ensure_experiment(tracking_uri: str, name: str) -> str:
    """Create the MLflow experiment up front, so a bad URI fails before any training starts.

    With a SQLite store, artifacts go next to the database file (MLflow's default is ./mlruns,
    relative to wherever the command happens to run).
    """
    import mlflow

    try:
        client = mlflow.MlflowClient(tracking_uri)
        found = client.get_experiment_by_name(name)
        if found is not None:
            return found.experiment_id
        artifacts = None
        if tracking_uri.startswith(SQLITE):
            artifacts = (Path(tracking_uri[len(SQLITE):]).resolve().parent / "mlartifacts").as_uri()
        return client.create_experiment(name, artifact_location=artifacts)
    except Exception as e:  # noqa: BLE001 - any failure here means the URI cannot be used
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise LaunchError(f"--mlflow {tracking_uri}: cannot use this MLflow tracking URI ({first}); "
                          "use sqlite:///PATH/mlflow.db, or http://HOST:PORT of an MLflow server") from None

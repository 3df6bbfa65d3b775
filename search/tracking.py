"""Optional experiment trackers beyond TensorBoard: MLflow, through Ray's own MLflow callback.

TensorBoard needs nothing here: Ray Tune's default `TBXLoggerCallback` writes each trial's
per-epoch scalars and, when the trial ends, its hyperparameters in the HParams format into
the trial folder, so `tensorboard --logdir RESULTS_DIR` shows one run per trial.
"""
from __future__ import annotations

from typing import Any

from .launch import LaunchError


def mlflow_callback(tracking_uri: str, experiment_name: str) -> Any:
    """A Tune callback logging each trial as an MLflow run: params, per-epoch metrics, trial folder as artifacts.

    Example: `mlflow_callback("file:///tmp/mlruns", "quickstart")`, or an `http://` tracking server.
    """
    try:
        import mlflow  # noqa: F401 - only to give a clear message when the extra is missing
    except ImportError:
        raise LaunchError(f"--mlflow {tracking_uri}: MLflow is not installed; "
                          "install it with pip install 'hpsearch[mlflow]'") from None
    from ray.air.integrations.mlflow import MLflowLoggerCallback

    # tags are the same on every run; the trial id is in each run's name and `trial_name` tag
    return MLflowLoggerCallback(tracking_uri=tracking_uri, experiment_name=experiment_name,
                                tags={"hpsearch.experiment": experiment_name}, save_artifact=True)

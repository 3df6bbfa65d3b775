"""The thin adapter between Ray Tune and `loop.run`: restore, report, checkpoint."""
from __future__ import annotations

import tempfile
from typing import Any

from .checkpoint import load_state, save_state
from .data import TrialData
from .loop import TrainSettings, run

NODE_ID = "node_id"


def train_trial(config: dict[str, Any], data: TrialData, settings: TrainSettings) -> None:
    """Ray Tune function trainable; wrap with `tune.with_parameters(train_trial, data=..., settings=...)`."""
    import ray
    from ray import tune

    node = ray.get_runtime_context().get_node_id()
    checkpoint = tune.get_checkpoint()
    start = None
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            start = load_state(folder)

    def report(metrics: dict[str, Any], state: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            save_state(state, folder)
            tune.report({**metrics, NODE_ID: node}, checkpoint=tune.Checkpoint.from_directory(folder))

    run(config, data, settings, report, start)

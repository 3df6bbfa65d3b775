"""The thin adapter between Ray Tune and `loop.run`: restore, report, checkpoint, record failures.

An exception inside the trial (a bug, a bad configuration, out of memory) is recorded as the
trial's error and ends it without a retry: retrying the same configuration fails the same way.
Only a dead worker or node (which never reaches this code) is retried by Ray from the checkpoint.
"""
from __future__ import annotations

import math
import tempfile
import traceback
from collections.abc import Mapping
from typing import Any

from .checkpoint import TrialState, load_state, save_state
from .data import TrialData
from .data.source import DataSource
from .loop import TrainSettings, run
from .metrics import EpochReport
from .models.builders import Builder, register_builders
from .schema import ERROR_KEY, NODE_ID
from .stages import Ladder, run_ladder

ERROR_FILE = "hpsearch_error.txt"


def train_trial(config: dict[str, Any], data: TrialData | DataSource, settings: TrainSettings,
                metric: str = "val_acc", builders: Mapping[str, Builder] | None = None,
                ladder: Ladder | None = None) -> None:
    """Ray Tune function trainable; wrap with `tune.with_parameters(train_trial, data=..., settings=...)`.

    `data`: the arrays themselves, or a `DataSource` that this node's loader decodes once (`node_data`).
    `builders`: the model builders registered on the driver (Python callables of a custom model).
    With `ladder`, the trial climbs its stages (`trainables.stages`) instead of one training of max_epochs.
    """
    import ray
    from ray import tune

    register_builders(builders)
    from .node_data import node_trial_data

    node = ray.get_runtime_context().get_node_id()
    if isinstance(data, DataSource):
        data = node_trial_data(data)
    start = _restored_state()
    last_epoch = (start.epoch + (ladder.epoch_offset(start.stage) if ladder else 0)) if start else 0

    def report(result: EpochReport, state: TrialState | None) -> None:
        nonlocal last_epoch
        last_epoch = result.epoch
        # Ray Tune requires the metric in every result (a too-slow report may not have it)
        metrics = {metric: math.nan, **result.metrics(), NODE_ID: node}
        if state is None:  # nothing worth a checkpoint
            tune.report(metrics)
            return
        with tempfile.TemporaryDirectory() as folder:
            save_state(state, folder)
            tune.report(metrics, checkpoint=tune.Checkpoint.from_directory(folder))

    try:
        if ladder is None:
            run(config, data, settings, report, start)
        else:
            run_ladder(config, data, settings, ladder, report, start)
    except Exception as e:  # noqa: BLE001 - any trial failure is recorded, the search goes on
        _record_failure(e, last_epoch, metric, node)


def _restored_state() -> TrialState | None:
    from ray import tune

    checkpoint = tune.get_checkpoint()
    if checkpoint is None:
        return None
    with checkpoint.as_directory() as folder:
        return load_state(folder)


def _record_failure(e: Exception, last_epoch: int, metric: str, node: str) -> None:
    from ray import tune

    message = f"{type(e).__name__}: {e}"
    _free_gpu_memory()
    trial_dir = tune.get_context().get_trial_dir()
    if trial_dir:
        with open(f"{trial_dir}/{ERROR_FILE}", "w") as f:
            f.write(traceback.format_exc())
    # the metric is reported (as NaN) because Ray Tune requires it in every result
    tune.report({"epoch": last_epoch, metric: math.nan, ERROR_KEY: message[:2000], NODE_ID: node})


def _free_gpu_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()

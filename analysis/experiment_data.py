"""The exact data an experiment searched on, rebuilt from its saved config, plus its held-out test set.

`load_data` and `settings_for` are the one definition of how a config becomes data and training
settings: `search` launches trials with them, analysis rebuilds the same data with them afterwards.
The test set is returned separately and is used only by the final evaluation, never for selection.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainables.data import ImageData, TrialData
from trainables.data.source import DataSource
from trainables.loop import TrainSettings
from trainables.models.builders import code_paths, use_code_paths
from trainables.models.pretrained import env_offline

from .experiment_config import ExperimentConfig, parse_config
from .layout import CONFIG_FILE, experiment_folder, read_config_dict
from .location import Where


@dataclass
class ExperimentData:
    data: TrialData          # train / validation exactly as the trials saw them (same split, same mean/std)
    x_test: np.ndarray
    y_test: np.ndarray
    settings: TrainSettings


def saved_config(path: Where, overrides: list[str] | None = None) -> ExperimentConfig:
    """The validated config saved in an experiment folder (no data, no Ray)."""
    path = experiment_folder(path)
    return parse_config(read_config_dict(path), str(path / CONFIG_FILE), overrides)


def load_data(cfg: ExperimentConfig) -> tuple[ImageData, TrialData]:
    """The dataset with its held-out test set, and the train/validation split every trial sees."""
    return data_source(cfg).load_split()


def data_source(cfg: ExperimentConfig) -> DataSource:
    """What every node loads for the trials of `cfg` (`trainables.node_data`)."""
    d = cfg.dataset
    return DataSource(d.name, d.data_dir, dict(d.options), d.test_fraction, d.val_fraction, cfg.search.seed,
                      d.train_subset)


def settings_for(cfg: ExperimentConfig) -> TrainSettings:
    """The training settings every trial of `cfg` runs with (the search's, not a trial's hyperparameters)."""
    r = cfg.resources
    return TrainSettings(max_epochs=cfg.budget.max_epochs, seed=cfg.search.seed,
                         num_threads=max(1, int(cfg.resources.cpus_per_trial)),
                         class_weights=cfg.dataset.class_weights, sampling=cfg.dataset.sampling,
                         pretrained_weights=dict(cfg.pretrained_weights), hub_offline=env_offline(),
                         precision=r.precision, channels_last=r.channels_last, cudnn_benchmark=r.cudnn_benchmark,
                         micro_batch=r.micro_batch, memory_fit=r.memory_fit,
                         gpu_fraction=r.gpus_per_trial if 0 < r.gpus_per_trial < 1 else None,
                         max_epoch_seconds=cfg.budget.epoch_time_limit(), constraints=cfg.constraints, tta=cfg.search.tta,
                         code_paths=tuple(code_paths(cfg.cluster.runtime_env)))


def load_experiment_data(path: Where) -> ExperimentData:
    """Reload the dataset as `hpsearch run` did (same seed, split, subset); the test set comes along."""
    cfg = analysis_config(path)
    use_code_paths(code_paths(cfg.cluster.runtime_env))  # a custom model's code, from where the trials had it
    raw, data = load_data(cfg)
    assert raw.x_test is not None and raw.y_test is not None  # load_data's test_split gives every dataset one
    return ExperimentData(data, raw.x_test, np.asarray(raw.y_test), settings_for(cfg))


def analysis_config(path: Where) -> ExperimentConfig:
    """The experiment's saved config, less the pretrained weight files that no longer exist.

    Evaluating, bundling or predicting with a trained model never needs them (its checkpoint holds
    every weight); only retraining from pretrained weights (`hpsearch final`) does, and it says so
    when it starts.
    """
    folder = experiment_folder(path)
    raw = read_config_dict(folder)
    files = raw.get("pretrained_weights") or {}
    raw["pretrained_weights"] = {name: file for name, file in files.items()
                                 if isinstance(file, str) and (folder / Path(file).expanduser()).is_file()}
    env = (raw.get("cluster") or {}).get("runtime_env") or {}
    if isinstance(env.get("py_modules"), list):  # likewise code files moved since: reading results needs none
        env["py_modules"] = [m for m in env["py_modules"] if not isinstance(m, str) or "://" in m or Path(m).exists()]
    if isinstance(env.get("working_dir"), str) and "://" not in env["working_dir"] \
            and not Path(env["working_dir"]).exists():
        env.pop("working_dir")
    return parse_config(raw, str(folder / CONFIG_FILE))

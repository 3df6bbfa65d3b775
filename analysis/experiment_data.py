"""The exact data an experiment searched on, rebuilt from its saved config, plus its held-out test set.

The test set is returned separately and is used only by the final evaluation, never for selection.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.config import ExperimentConfig, parse_config
from search.experiment_dir import CONFIG_FILE, read_config_dict
from search.launch import experiment_folder, load_data, settings_for
from trainables.data import TrialData
from trainables.loop import TrainSettings


@dataclass
class ExperimentData:
    data: TrialData          # train / validation exactly as the trials saw them (same split, same mean/std)
    x_test: np.ndarray
    y_test: np.ndarray
    settings: TrainSettings


def load_experiment_data(path: str | Path) -> ExperimentData:
    """Reload the dataset as `hpsearch run` did (same seed, split, subset); the test set comes along."""
    cfg = analysis_config(path)
    raw, data = load_data(cfg)
    return ExperimentData(data, raw.x_test, np.asarray(raw.y_test), settings_for(cfg))


def analysis_config(path: str | Path) -> ExperimentConfig:
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
    return parse_config(raw, str(folder / CONFIG_FILE))

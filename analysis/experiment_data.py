"""The exact data an experiment searched on, rebuilt from its saved config, plus its held-out test set.

The test set is returned separately and is used only by the final evaluation, never for selection.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.config import parse_config
from search.experiment_dir import CONFIG_FILE, read_config_dict
from search.launch import LaunchError, settings_for
from trainables.data import TrialData, load_dataset, make_trial_data, test_split
from trainables.loop import TrainSettings


@dataclass
class ExperimentData:
    data: TrialData          # train / validation exactly as the trials saw them (same split, same mean/std)
    x_test: np.ndarray
    y_test: np.ndarray
    settings: TrainSettings


def load_experiment_data(path: str | Path) -> ExperimentData:
    """Reload the dataset as `hpsearch run` did (same seed, split, subset); the test set comes along."""
    path = Path(path).expanduser().resolve()
    if not (path / CONFIG_FILE).is_file():
        raise LaunchError(f"{path} is not an hpsearch experiment (no {CONFIG_FILE})")
    cfg = parse_config(read_config_dict(path), str(path / CONFIG_FILE))
    raw = load_dataset(cfg.dataset.name, cfg.dataset.data_dir, cfg.dataset.options)
    raw = test_split(raw, cfg.dataset.test_fraction, cfg.search.seed)
    data = make_trial_data(raw, cfg.dataset.val_fraction, cfg.search.seed, cfg.dataset.train_subset)
    return ExperimentData(data, raw.x_test, np.asarray(raw.y_test), settings_for(cfg))

"""The exact data an experiment searched on, rebuilt from its saved config, plus its held-out test set.

The test set is returned separately and is used only by the final evaluation, never for selection.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from search.launch import load_data, saved_config, settings_for
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
    cfg = saved_config(path)
    raw, data = load_data(cfg)
    return ExperimentData(data, raw.x_test, np.asarray(raw.y_test), settings_for(cfg))

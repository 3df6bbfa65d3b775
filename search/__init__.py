"""Experiment config, launching and resuming Ray Tune searches, the Python API (`search.api`) and the CLI.

    import search as hps                  # or: from search import api as hps
    s = hps.run("experiment.yaml", data=(x_train, y_train))
"""
from __future__ import annotations

from . import api
from .api import Interrupted, Search, cross_validate, figure, final, leaderboard, predict, report, resume, run
from .config import ConfigError, ExperimentConfig, load_config, parse_config

__all__ = ["ConfigError", "ExperimentConfig", "Interrupted", "Search", "api", "cross_validate", "figure", "final",
           "leaderboard", "load_config", "parse_config", "predict", "report", "resume", "run"]

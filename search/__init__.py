"""Experiment config, launching and resuming Ray Tune searches, and the `hpsearch` CLI."""
from __future__ import annotations

from .config import ConfigError, ExperimentConfig, load_config, parse_config

__all__ = ["ConfigError", "ExperimentConfig", "load_config", "parse_config"]

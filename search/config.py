"""The experiment file, as `search` validates it before launching.

The schema is defined in `analysis.experiment_config` (analysis reads it back from every experiment
folder, and analysis imports nothing from search); these are the same objects.
"""
from __future__ import annotations

from analysis.experiment_config import (
                                        ConfigError,
                                        DatasetConfig,
                                        ExperimentConfig,
                                        ResourcesConfig,
                                        apply_overrides,
                                        load_config,
                                        parse_config,
)

__all__ = ["ConfigError", "DatasetConfig", "ExperimentConfig", "ResourcesConfig", "apply_overrides", "load_config",
           "parse_config"]

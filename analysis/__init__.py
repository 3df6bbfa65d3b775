"""Read experiment results from disk, rank trials, write reports. Needs no live Ray cluster."""
from __future__ import annotations

from .leaderboard import leaderboard, to_csv, to_markdown, to_terminal
from .load import Experiment, load_experiment

__all__ = ["Experiment", "leaderboard", "load_experiment", "to_csv", "to_markdown", "to_terminal"]

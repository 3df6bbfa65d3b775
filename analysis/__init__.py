"""Read experiment results from disk, rank trials, write reports. Needs no live Ray cluster.

Imports go one way: spaces -> trainables -> analysis -> search. `analysis` reads what an experiment
wrote to disk, evaluates and reports; it owns the experiment's on-disk layout (`layout`: file names
and readers; `outcome`: how a trial ended; `run_log`: launches, resumes and why each ended;
`experiment_config`: the saved hpsearch.yaml, typed) and imports nothing from `search`. `search`
launches, resumes and watches searches on top of it and writes folders under these names.
(tests/analysis_tests/test_imports.py checks the direction.)

`load_experiment` and `leaderboard` import only pandas; the report, final model, ensemble, export and
prediction (matplotlib, torch, onnx) load on first use, so `hpsearch leaderboard` stays quick.
"""
from __future__ import annotations

from typing import Any

from .leaderboard import leaderboard, to_csv, to_markdown, to_terminal
from .load import Experiment, load_experiment

_LAZY = {"build_report": ".report", "final_model": ".final", "cross_validate": ".crossval",
         "predict_files": ".predict", "load_bundle": ".bundle", "evaluate_trial": ".evaluate",
         "param_importances": ".importance", "classification_metrics": ".classification",
         "final_ensemble": ".ensemble", "export_bundle": ".export", "load_exported": ".exported"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Experiment", "build_report", "classification_metrics", "cross_validate", "evaluate_trial",
           "export_bundle", "final_ensemble", "final_model", "leaderboard", "load_bundle", "load_exported",
           "load_experiment", "param_importances", "predict_files", "to_csv", "to_markdown", "to_terminal"]

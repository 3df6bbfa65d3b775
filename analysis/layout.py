"""The on-disk layout of an experiment: file names and how to read them. Defined here once.

<storage>/<name>/
    hpsearch.yaml     the resolved experiment config (after --set), read by `analysis.experiment_config`
    space.yaml        the resolved search space (as given)
    runs.jsonl        the run log: each launch and resume, and how each run ended (`analysis.run_log`)
    optuna.db         the Optuna study (unless search.study_storage names a database)
    time_account.json a time-budgeted run (budget.mode: time): its plan, and where the time went (`analysis.time_account`)
    final/            the bundle of a time-budgeted run's final model (or of `hpsearch final`)
    trial_<id>/       Ray Tune's per-trial folders: params.json, result.json (JSON lines), error.txt, checkpoints
    experiment_state-*.json, searcher-state-*.pkl, search_gen_state-*.json, tuner.pkl   Ray Tune's restore state

`search` writes these files under these names; `analysis` (and `hpsearch status`) read them. Neither
spells a file name itself.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from trainables.schema import METRICS

from .errors import ExperimentError
from .results_file import read_results  # noqa: F401 (the one reader of result files, re-exported here)

CONFIG_FILE = "hpsearch.yaml"
SPACE_FILE = "space.yaml"
RUN_LOG = "runs.jsonl"
STUDY_FILE = "optuna.db"
PARAMS_FILE = "params.json"
RESULT_FILE = "result.json"
RAY_ERROR_FILE = "error.txt"      # Ray's record of a trial whose worker failed
TUNER_FILE = "tuner.pkl"
TIME_ACCOUNT = "time_account.json"
FINAL_DIR = "final"
EXPERIMENT_STATE = "experiment_state-*.json"
STATE_PATTERNS = (EXPERIMENT_STATE, "searcher-state-*.pkl", "search_gen_state-*.json")


def is_uri(path: str) -> bool:
    return "://" in path


def experiment_folder(path: str | Path) -> Path:
    """The resolved folder, or ExperimentError if it holds no hpsearch experiment."""
    path = Path(path).expanduser().resolve()
    if not (path / CONFIG_FILE).is_file():
        raise ExperimentError(f"{path} is not an hpsearch experiment (no {CONFIG_FILE})")
    return path


def read_config_dict(exp: str | Path) -> dict[str, Any]:
    """The saved experiment config as a plain mapping (hpsearch.yaml)."""
    return yaml.safe_load((Path(exp) / CONFIG_FILE).read_text()) or {}


def metric_mode(metric: str, mode: str | None = None) -> str:
    """`mode` if given, else the metric's natural direction ("max" for accuracies, "min" for losses)."""
    return mode or METRICS.get(metric) or ("min" if metric.endswith("loss") else "max")


def newest(exp: Path, pattern: str) -> Path | None:
    """The newest of Ray's state files matching `pattern` (Ray picks max() of these names; so do we)."""
    files = sorted(exp.glob(pattern))
    return files[-1] if files else None


def read_trial_states(exp: Path) -> dict[str, dict[str, Any]]:
    """trial_id -> {status, config, num_failures, error_file, logdir} from Ray's newest experiment state file."""
    newest_state = newest(exp, EXPERIMENT_STATE)
    if newest_state is None:
        return {}
    try:
        state = json.loads(newest_state.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    out = {}
    for trial_json, runtime_json in state.get("trial_data", []):
        t, r = json.loads(trial_json), json.loads(runtime_json)
        out[t["trial_id"]] = {"status": t.get("status"), "config": t.get("config", {}),
                              "num_failures": r.get("num_failures", 0), "error_file": r.get("error_filename"),
                              "logdir": t.get("relative_logdir")}
    return out


def trial_dirs(exp: Path) -> dict[str, Path]:
    """trial_id -> its folder, for every folder holding a params.json."""
    out = {}
    for params in sorted(exp.glob(f"*/{PARAMS_FILE}")):
        d = params.parent
        rows = read_results(d / RESULT_FILE)
        trial_id = rows[-1]["trial_id"] if rows and "trial_id" in rows[-1] else d.name.removeprefix("trial_")
        out[trial_id] = d
    return out

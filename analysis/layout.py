"""The on-disk layout of an experiment: file names and how to read them. Defined here once.

<storage>/<name>/
    hpsearch.yaml     the resolved experiment config (after --set), read by `analysis.experiment_config`
    space.yaml        the resolved search space (as given)
    runs.jsonl        the run log: each launch and resume, and how each run ended (`analysis.run_log`)
    optuna.journal    the Optuna study, an append-only journal (unless search.study_storage names a database;
                      experiments from older versions keep their SQLite optuna.db)
    time_account.json a time-budgeted run (budget.mode: time): its plan, and where the time went (`analysis.time_account`)
    abandoned_trials.json  trials a killed driver started but never recorded; its resume ran others instead
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

from spaces import Space, parse_space, safe_load_strict
from trainables.schema import METRICS

from .errors import ExperimentError
from .location import AnyPath, Where, as_path, glob
from .results_file import read_results as _read_local_results

CONFIG_FILE = "hpsearch.yaml"
SPACE_FILE = "space.yaml"
RUN_LOG = "runs.jsonl"
STUDY_FILE = "optuna.db"          # SQLite study: older experiments, or search.study_storage: sqlite
JOURNAL_FILE = "optuna.journal"   # the default study storage (search/study_storage.py says why)
PARAMS_FILE = "params.json"
RESULT_FILE = "result.json"
RAY_ERROR_FILE = "error.txt"      # Ray's record of a trial whose worker failed
TUNER_FILE = "tuner.pkl"
ABANDONED_FILE = "abandoned_trials.json"
TIME_ACCOUNT = "time_account.json"
FINAL_DIR = "final"
EXPERIMENT_STATE = "experiment_state-*.json"
STATE_PATTERNS = (EXPERIMENT_STATE, "searcher-state-*.pkl", "search_gen_state-*.json")


def is_uri(path: str) -> bool:
    return "://" in path


def experiment_folder(path: Where) -> AnyPath:
    """The resolved folder (or the folder in object storage), or ExperimentError if it holds no experiment."""
    path = as_path(path)
    if not (path / CONFIG_FILE).is_file():
        raise ExperimentError(f"{path} is not an hpsearch experiment (no {CONFIG_FILE})")
    return path


def read_config_dict(exp: Where) -> dict[str, Any]:
    """The saved experiment config as a plain mapping (hpsearch.yaml)."""
    return yaml.safe_load((as_path(exp) / CONFIG_FILE).read_text()) or {}


def read_space(exp: AnyPath) -> Space | None:
    """The experiment's saved search space (space.yaml), or None if it has none."""
    path = exp / SPACE_FILE
    if not path.is_file():
        return None
    return parse_space(safe_load_strict(path.read_text()), source=str(path))


def metric_mode(metric: str, mode: str | None = None) -> str:
    """`mode` if given, else the metric's natural direction ("max" for accuracies, "min" for losses)."""
    return mode or METRICS.get(metric) or ("min" if metric.endswith("loss") else "max")


def read_results(path: Where) -> list[dict[str, Any]]:
    """Rows of a Ray `result.json` (JSON lines); a line cut off by a crash is ignored. A local file is read
    incrementally (`analysis.results_file`: parsed once per process); one in object storage whole."""
    path = as_path(path)
    if isinstance(path, Path):
        return _read_local_results(path)
    rows: list[dict[str, Any]] = []
    if not path.is_file():
        return rows
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def newest(exp: AnyPath, pattern: str) -> AnyPath | None:
    """The newest of Ray's state files matching `pattern` (Ray picks max() of these names; so do we)."""
    files = glob(exp, pattern)
    return files[-1] if files else None


def read_trial_states(exp: AnyPath) -> dict[str, dict[str, Any]]:
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


def trial_dirs(exp: AnyPath) -> dict[str, AnyPath]:
    """trial_id -> its folder, for every folder holding a params.json."""
    out: dict[str, AnyPath] = {}
    for params in glob(exp, f"*/{PARAMS_FILE}"):
        d = params.parent
        rows = read_results(d / RESULT_FILE)
        trial_id = rows[-1]["trial_id"] if rows and "trial_id" in rows[-1] else d.name.removeprefix("trial_")
        out[trial_id] = d
    return out


def read_abandoned(exp: AnyPath) -> set[str]:
    """Trial ids a resume abandoned: folders of trials the killed driver never recorded in its saved state."""
    path = exp / ABANDONED_FILE
    if not path.is_file():
        return set()
    try:
        return set(json.loads(path.read_text()))
    except (OSError, ValueError):
        return set()


def abandon_unrecorded(exp: AnyPath, recorded: set[str]) -> set[str]:
    """Record as abandoned every trial folder that Ray's saved state (`recorded`) does not hold; returns them.

    A trial writes its own folder (in object storage, straight to the bucket) while the driver saves and
    uploads its record of the trials only now and then; a driver killed in between leaves a trial Ray will
    never continue. Its folder stays, for inspection; analysis leaves it out of the experiment.
    """
    lost = set(trial_dirs(exp)) - set(recorded)
    if lost:
        (exp / ABANDONED_FILE).write_text(json.dumps(sorted(read_abandoned(exp) | lost)))
    return lost

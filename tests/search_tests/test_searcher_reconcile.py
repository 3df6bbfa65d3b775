"""A resumed searcher whose saved state is older (or newer) than Ray's record of the trials proposes no
configuration twice, and leaves no study trial RUNNING that Ray will not finish (search/searcher_reconcile.py).

The states are made as a driver killed mid-upload leaves them: the searcher's pickle and the Optuna journal
copied at one moment, Ray's record of the trials taken at another.
"""
from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import optuna
import pytest

from search.config import parse_config
from search.searcher import build_searcher
from search.study_storage import load_experiment_study
from spaces import get_preset

S = optuna.trial.TrialState
STUDY_FILE = "optuna.journal"


def config(sampler: str, folder: Path):
    return parse_config({"name": "r", "space": "lenet5", "storage": str(folder),
                         "budget": {"num_samples": 12, "max_epochs": 2}, "search": {"sampler": sampler}}, "<test>")


def within(cfg: dict, params: dict) -> dict:
    return {k: cfg[k] for k in params if k in cfg}


def key(cfg: dict) -> str:
    return json.dumps({k: v for k, v in cfg.items() if k != "seed"}, sort_keys=True)


def snapshot(searcher, folder: Path, into: Path) -> Path:
    """The searcher's pickle and the study's journal as they are now, in `into` (a copy of the folder)."""
    into.mkdir()
    searcher.save(str(into / "searcher-state.pkl"))
    shutil.copy(folder / STUDY_FILE, into / STUDY_FILE)
    return into / "searcher-state.pkl"


def restored(launched: bytes, state: Path, record: dict[str, dict]):
    """The searcher as Ray restores it: unpickled as it was at launch (tuner.pkl), then `restore`d."""
    resumed = pickle.loads(launched)  # noqa: S301 - our own pickle
    resumed.study_dir = str(state.parent)
    resumed.ray_trials = record
    resumed.restore(str(state))
    return resumed


@pytest.mark.parametrize("sampler", ["tpe", "prior", "random"])
@pytest.mark.parametrize("stale_at", [0, 1])
def test_a_searcher_older_than_rays_record_proposes_nothing_twice(tmp_path: Path, sampler: str, stale_at: int):
    first_dir = tmp_path / "run"
    first_dir.mkdir()
    first = build_searcher(config(sampler, first_dir), get_preset("lenet5"), str(first_dir))
    launched = pickle.dumps(first)
    configs, state = {}, None
    for n in range(3):  # the first is the space's warm start
        if n == stale_at:
            state = snapshot(first, first_dir, tmp_path / "stale")
        configs[f"t{n}"] = first.suggest(f"t{n}")
    first.on_trial_complete("t0", {"epoch": 2, "training_iteration": 2, "val_acc": 0.8})
    record = {tid: {"status": "TERMINATED" if tid == "t0" else "RUNNING", "config": c} for tid, c in configs.items()}

    resumed = restored(launched, state, record)
    later = [resumed.suggest(f"n{i}") for i in range(4)]
    assert len({key(c) for c in [*configs.values(), *later]}) == 7, "a configuration was proposed twice"
    for tid in ("t1", "t2"):  # Ray continues them: their results reach the study trial with their parameters
        resumed.on_trial_result(tid, {"epoch": 1, "training_iteration": 1, "val_acc": 0.5})
        resumed.on_trial_complete(tid, {"epoch": 2, "training_iteration": 2, "val_acc": 0.6})
    study = load_experiment_study(state.parent, "r")
    told = [t for t in study.trials if t.state == S.COMPLETE and t.value == pytest.approx(0.6)]
    assert sorted(key(t.params) for t in told) == sorted(key(within(configs[tid], t.params)) for tid, t in
                                                         zip(("t1", "t2"), sorted(told, key=lambda t: t.number)))


def test_a_searcher_newer_than_rays_record_closes_what_ray_never_recorded(tmp_path: Path):
    folder = tmp_path / "run"
    folder.mkdir()
    first = build_searcher(config("tpe", folder), get_preset("lenet5"), str(folder))
    launched = pickle.dumps(first)
    kept = first.suggest("kept")
    first.suggest("lost")  # proposed, but Ray's saved record was written before it
    state = snapshot(first, folder, tmp_path / "newer")

    resumed = restored(launched, state, {"kept": {"status": "RUNNING", "config": kept}})
    study = load_experiment_study(state.parent, "r")
    running = study.get_trials(states=(S.RUNNING,))
    assert [key(t.params) for t in running] == [key(within(kept, running[0].params))]
    assert "lost" not in resumed._ot_trials
    resumed.on_trial_complete("kept", {"epoch": 2, "training_iteration": 2, "val_acc": 0.7})
    assert load_experiment_study(state.parent, "r").get_trials(states=(S.RUNNING,)) == []

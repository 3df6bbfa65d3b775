"""The Optuna study storage: a journal file by default (many writers, shared filesystems), SQLite (WAL,
synchronous=NORMAL) for older experiments; both keep every commit when the process is killed."""
from __future__ import annotations

import multiprocessing
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import optuna
import pytest
import sqlalchemy

from search.searcher import study_storage
from search.study_storage import load_experiment_study, study_ref

ROOT = Path(__file__).resolve().parents[2]


def test_study_file_is_in_wal_mode_and_storage_pickles(tmp_path: Path) -> None:
    storage = study_storage(str(tmp_path / "optuna.db"))
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    study.tell(study.ask({"x": optuna.distributions.FloatDistribution(0, 1)}), 0.5)
    with storage.engine.connect() as con:
        assert con.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert con.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    again = pickle.loads(pickle.dumps(storage))  # the searcher's state may hold the storage
    assert len(optuna.load_study(study_name="s", storage=again).trials) == 1
    # a plain SQLAlchemy/Optuna URL, as users and `optuna-dashboard` open it, reads the same study
    assert len(optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path / 'optuna.db'}").trials) == 1
    assert isinstance(storage.engine, sqlalchemy.engine.Engine)


@pytest.mark.parametrize("file", ["optuna.db", "optuna.journal"])  # the journal is appended without fsync
def test_every_committed_trial_survives_a_killed_process(tmp_path: Path, file: str) -> None:
    db = tmp_path / file
    script = textwrap.dedent(f"""
        import os, signal, optuna
        from search.searcher import study_storage
        study = optuna.create_study(study_name="k", storage=study_storage({str(db)!r}), direction="maximize")
        for i in range(5):
            t = study.ask()
            t.suggest_float("x", 0, 1)
            t.report(0.1 * i, 1)
            study.tell(t, 0.1 * i)
        running = study.ask()
        running.suggest_float("x", 0, 1)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == -9, proc.stderr
    study = optuna.load_study(study_name="k", storage=study_storage(str(db)))
    states = [t.state for t in study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE] * 5 + [optuna.trial.TrialState.RUNNING]
    assert [t.value for t in study.trials[:5]] == [0.1 * i for i in range(5)]
    assert all(t.intermediate_values == {1: t.value} for t in study.trials[:5])
    assert "x" in study.trials[5].params  # even the parameter suggested just before the kill


def test_pickled_searcher_never_touches_the_launch_folders_study(tmp_path: Path) -> None:
    """Ray pickles the searcher into tuner.pkl and searcher-state-*.pkl; unpickling either (resume of a
    moved or copied folder) must not open the study file where the search was launched."""
    from search.config import parse_config
    from search.searcher import build_searcher
    from spaces import get_preset

    launch = tmp_path / "launch"
    launch.mkdir()
    cfg = parse_config({"name": "p", "space": "lenet5", "storage": str(tmp_path), "dataset": {"name": "fashion_mnist"},
                        "budget": {"num_samples": 4, "max_epochs": 2}}, "<test>")
    searcher = build_searcher(cfg, get_preset("lenet5"), str(launch))
    searcher.suggest("t1")
    searcher.save(str(launch / "searcher-state.pkl"))
    tuner_pkl = pickle.dumps(searcher)
    before = {p.name: p.read_bytes() for p in launch.iterdir() if p.name.startswith("optuna.")}
    assert "optuna.journal" in before
    launched = [t.params for t in searcher._ot_study.trials]

    moved = tmp_path / "moved"
    launch.rename(moved)  # the launch folder is gone: opening its study file would fail or create one
    unpickled = pickle.loads(tuner_pkl)
    assert unpickled._storage is None and unpickled._ot_study is None
    restored = unpickled  # what Ray does on resume: the tuner.pkl searcher restores the saved state
    restored.study_dir = str(moved)
    restored.restore(str(moved / "searcher-state.pkl"))
    assert not launch.exists()
    assert [t.params for t in restored._ot_study.trials] == launched
    assert restored._ot_trials["t1"]._trial_id == searcher._ot_trials["t1"]._trial_id


def _write_trials(path: str, writer: int, n: int, start: Any) -> None:
    """One writer process: `n` trials into the shared study, each valued writer * 1000 + i."""
    start.wait()  # every writer starts at once
    study = optuna.load_study(study_name="shared", storage=study_storage(path))
    for i in range(n):
        t = study.ask()
        t.suggest_float("x", 0, 1)
        t.report(i / n, 1)
        study.tell(t, writer * 1000 + i)


def test_concurrent_writer_processes_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    """8 processes write one default (journal) study at once: every trial recorded once, numbered once."""
    path = study_ref(str(tmp_path))
    assert path.endswith("optuna.journal")
    optuna.create_study(study_name="shared", storage=study_storage(path), direction="maximize")
    ctx = multiprocessing.get_context("fork")  # optuna already imported: the writers start in milliseconds
    start, writers, per_writer = ctx.Barrier(8), 8, 15
    procs = [ctx.Process(target=_write_trials, args=(path, w, per_writer, start)) for w in range(writers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * writers  # a "database is locked" or any error fails its writer
    trials = optuna.load_study(study_name="shared", storage=study_storage(path)).trials
    assert sorted(t.number for t in trials) == list(range(writers * per_writer))
    assert sorted(t.value for t in trials) == sorted(w * 1000 + i for w in range(writers) for i in range(per_writer))
    assert {t.state for t in trials} == {optuna.trial.TrialState.COMPLETE}
    assert all(len(t.intermediate_values) == 1 and "x" in t.params for t in trials)


def test_default_study_is_a_journal_and_an_old_experiments_sqlite_file_is_kept(tmp_path: Path) -> None:
    new, old = tmp_path / "new", tmp_path / "old"
    new.mkdir()
    old.mkdir()
    assert isinstance(study_storage(study_ref(str(new))), optuna.storages.JournalStorage)
    assert study_ref(str(new), "journal") == str(new / "optuna.journal")
    assert study_ref(str(new), "sqlite") == str(new / "optuna.db")
    optuna.create_study(study_name="o", storage=f"sqlite:///{old / 'optuna.db'}")  # made by an older hpsearch
    assert study_ref(str(old)) == str(old / "optuna.db")
    assert isinstance(study_storage(study_ref(str(old))), optuna.storages.RDBStorage)
    assert study_ref(str(new), "postgresql://u@h/db") == "postgresql://u@h/db"
    assert load_experiment_study(old, "o").study_name == "o"

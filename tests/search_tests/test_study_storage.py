"""The Optuna study file: fast (WAL, synchronous=NORMAL) and still keeps every commit when the process is killed."""
from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import sqlalchemy

from search.searcher import study_storage

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


def test_every_committed_trial_survives_a_killed_process(tmp_path: Path) -> None:
    db = tmp_path / "optuna.db"
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

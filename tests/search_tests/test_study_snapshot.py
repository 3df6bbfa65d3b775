"""SnapshotSampler: the same proposals as plain TPE while the study is small, one read of the study per trial,
and a bounded history (the best and the most recent trials) once it is larger."""
from __future__ import annotations

import pickle

import optuna
import pytest

from search.study_snapshot import SnapshotSampler, bounded
from spaces import define_by_run, get_preset

optuna.logging.set_verbosity(optuna.logging.WARNING)
pytestmark = pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")


class CountingStorage(optuna.storages.InMemoryStorage):
    """Optuna's in-memory storage, counting how often the whole study is read."""

    reads = 0

    def get_all_trials(self, *args, **kwargs):
        self.reads += 1
        return super().get_all_trials(*args, **kwargs)


def tpe() -> optuna.samplers.TPESampler:
    return optuna.samplers.TPESampler(seed=1, n_startup_trials=5, multivariate=True, group=True, constant_liar=True)


def search(sampler: optuna.samplers.BaseSampler, n: int, storage: optuna.storages.BaseStorage | None = None,
           running: int = 3) -> optuna.Study:
    """`n` trials of the mlp preset (conditional, per-layer parameters), `running` of them in flight at a time."""
    study = optuna.create_study(direction="maximize", sampler=sampler, storage=storage)
    space_fn = define_by_run(get_preset("mlp"), seed_key="seed")
    live = []
    for i in range(n):
        trial = study.ask()
        space_fn(trial)
        live.append(trial)
        if len(live) > running:
            done = live.pop(0)
            cfg = done.params
            score = -abs(cfg["lr"] - 3e-3) * 100 + 0.1 * cfg["mlp_layers"]
            if i % 3:
                study.tell(done, score)
            else:
                done.report(score, 1)
                study.tell(done, state=optuna.trial.TrialState.PRUNED)
    return study


def test_proposes_exactly_what_plain_tpe_proposes_while_the_study_is_within_its_history() -> None:
    plain, snap = search(tpe(), 30), search(SnapshotSampler(tpe(), history=100), 30)
    assert [t.params for t in plain.trials] == [t.params for t in snap.trials]


def test_reads_the_study_once_per_trial_where_plain_tpe_reads_it_many_times() -> None:
    plain_storage, snap_storage = CountingStorage(), CountingStorage()
    search(tpe(), 30, plain_storage)
    search(SnapshotSampler(tpe()), 30, snap_storage)
    assert plain_storage.reads >= 2 * snap_storage.reads
    assert snap_storage.reads <= 30 * 2  # the snapshot, plus Optuna's own read when a trial is told


def test_a_large_study_is_modelled_from_a_bounded_history_of_its_best_and_latest_trials() -> None:
    sampler = SnapshotSampler(tpe(), history=20)
    study = search(sampler, 60)
    study.ask()  # one more trial: its suggestions go through a fresh snapshot
    trial = study.ask()
    seen = sampler._study_view(study, trial._cached_frozen_trial)._get_trials(deepcopy=False)
    finished = [t for t in seen if t.state.is_finished()]
    assert len(finished) == 20
    assert {t.number for t in seen if not t.state.is_finished()} == {t.number for t in study.trials
                                                                     if not t.state.is_finished()}
    complete = sorted((t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE),
                      key=lambda t: t.value, reverse=True)
    assert {t.number for t in complete[:10]} <= {t.number for t in finished}, "the ten best are kept"
    latest = [t.number for t in study.trials if t.state.is_finished()][-5:]
    assert set(latest) <= {t.number for t in finished}, "the latest finished trials are kept"
    assert [t.number for t in seen] == sorted(t.number for t in seen)


def test_bounded_keeps_a_small_study_whole() -> None:
    study = search(tpe(), 12)
    assert bounded(study.trials, 50, study.direction) == study.trials


def test_pickles_without_its_snapshot() -> None:
    sampler = SnapshotSampler(tpe())
    study = search(sampler, 8)
    study.ask().suggest_float("lr", 1e-4, 1e-2, log=True)
    assert sampler._view is not None
    copy = pickle.loads(pickle.dumps(sampler))
    assert copy._view is None and copy.history == sampler.history

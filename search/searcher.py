"""Where the Optuna searcher (TPE through Ray Tune's OptunaSearch) is built.

The study lives with the results (a journal file, see `study_storage`) or in a database URL, so
optuna-dashboard can watch it and analysis can use Optuna's tools on it; on resume the study is
re-opened where the folder is now, and trials a crash left RUNNING are closed.
"""
from __future__ import annotations

import logging
import math
import pickle
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from ray.tune.search import Searcher
from ray.tune.search.optuna import OptunaSearch

from analysis.layout import is_uri
from spaces import Constant, Space, define_by_run
from trainables.constraints import Constraint
from trainables.metrics import DIVERGED, EPOCH, INFEASIBLE, RESOURCE, STOPPED_BY, TOO_SLOW
from trainables.ray_trainable import ERROR_KEY

from . import _ray_compat as ray_compat
from ._optuna_compat import live_trial, storage_id
from .config import ExperimentConfig
from .searcher_reconcile import add_running_trial, reconcile
from .study_snapshot import SnapshotSampler
from .study_storage import (  # noqa: F401 (study_storage, SQLiteConnect re-exported)
    SQLiteConnect,
    fetch_journal,
    fresh_journal,
    in_results,
    publish_journal,
    stage_journal,
    study_ref,
    study_storage,
)

SEED_KEY = "seed"

log = logging.getLogger("hpsearch")


class TrialAwareOptunaSearch(OptunaSearch):
    """OptunaSearch that tells Optuna how each trial really ended.

    - errored or diverged: FAIL (never a score);
    - stopped early by ASHA: PRUNED with its per-epoch values, so TPE ranks it at the fidelity it
      reached instead of mistaking a truncated score for a final one (a multi-objective study takes no
      per-epoch values: PRUNED alone);
    - stopped in its first epoch as too slow for the budget, or infeasible before training: PRUNED with
      no value, which TPE ranks below every trial that reported one, so it learns to avoid such regions;
    - ran to max_epochs (or its own patience): COMPLETE with the objectives at the primary's best epoch.

    With `constraints`, every finished trial also tells Optuna how far it is from each one
    (`Trial.set_constraint`: <= 0 when met), so TPE ranks infeasible trials below feasible ones.

    A staged trial (`trainables.stages`, `staged=True`) is told to Optuna only at the end of each stage
    (results that carry `resource`): one intermediate value per complete training, none mid-schedule.
    A staged trial that could not start its first stage before the deadline reported no value: FAIL,
    which TPE leaves out (it says nothing about the configuration).
    """

    ray_trials: dict[str, dict[str, Any]] | None = None  # Ray's record of the trials, set before a restore
    # time.time() after which a new trial could not end even the cheapest stage before a time-budgeted
    # search's deadline: no more suggestions (each would start, report nothing and end at once; hundreds did)
    last_start: float | None = None

    def __init__(self, *args: Any, max_epochs: int, study_in_experiment: bool = False, staged: bool = False,
                 objectives: list[tuple[str, str]] | None = None, constraints: tuple[Constraint, ...] = (),
                 **kwargs: Any) -> None:
        self._max_epochs = max_epochs
        self._staged = staged
        self._study_in_experiment = study_in_experiment
        self._best: dict[str, float] = {}
        self._best_result: dict[str, dict] = {}  # the result of each trial's best epoch (other objectives)
        self._objectives = list(objectives or [(kwargs["metric"], kwargs["mode"])])
        self._constraints = tuple(constraints)
        self.study_dir: str | None = None  # the experiment folder or URI, where `save` and `restore` find the study
        super().__init__(*args, **kwargs)

    def suggest(self, trial_id: str) -> dict[Any, Any] | None:
        if self.last_start is not None and time.time() > self.last_start:
            # Tune lets the running trials end; the exploration can end early. Ray's own signature omits the
            # FINISHED string its SearchGenerator checks for
            return Searcher.FINISHED  # type: ignore[return-value]
        return super().suggest(trial_id)

    def _better(self, a: float, b: float) -> bool:
        return a > b if self._objectives[0][1] == "max" else a < b

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        value = result.get(self._objectives[0][0])
        if result.get(ERROR_KEY) or result.get(DIVERGED) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return
        if getattr(self, "_staged", False) and RESOURCE not in result:  # mid-stage: not a training's result yet
            return
        if trial_id not in self._best or self._better(value, self._best[trial_id]):
            self._best[trial_id], self._best_result[trial_id] = value, dict(result)
        try:
            super().on_trial_result(trial_id, result)
        except (ValueError, RuntimeError) as e:  # the Optuna trial was already closed (e.g. after resume)
            log.debug("optuna report skipped for %s: %s", trial_id, e)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        ot_trials, completed = ray_compat.optuna_search_trials(self), ray_compat.optuna_search_completed(self)
        if trial_id not in ot_trials or trial_id in completed:
            return
        result = result or {}
        if EPOCH in result:  # Ray hands the result that ended a trial only to on_trial_complete
            self.on_trial_result(trial_id, result)
        state, values = self._outcome(trial_id, result, error)
        try:
            self._tell_constraints(ot_trials[trial_id], result)
            if state == optuna.trial.TrialState.PRUNED and len(self._objectives) > 1:
                self._tell_fidelity(ot_trials[trial_id], trial_id)
            ray_compat.optuna_search_study(self).tell(ot_trials[trial_id], values, state=state)
        except Exception as e:  # noqa: BLE001 - already finished in Optuna; never crash the driver
            log.warning("optuna tell failed for %s: %s", trial_id, e)
        completed.add(trial_id)

    def _outcome(self, trial_id: str, result: dict, error: bool) -> tuple[optuna.trial.TrialState, Any]:
        """How the trial ended for Optuna, and its value(s) when COMPLETE."""
        failed = error or bool(result.get(ERROR_KEY))
        if result.get(STOPPED_BY) in (TOO_SLOW, INFEASIBLE) and not failed and trial_id not in self._best:
            return optuna.trial.TrialState.PRUNED, None  # ended before an epoch's results
        values = self._values(trial_id)
        if failed or result.get(DIVERGED) or values is None:
            return optuna.trial.TrialState.FAIL, None
        if result.get(EPOCH, self._max_epochs) < self._max_epochs and result.get(STOPPED_BY) != "patience":
            return optuna.trial.TrialState.PRUNED, None
        return optuna.trial.TrialState.COMPLETE, values

    def _values(self, trial_id: str) -> float | list[float] | None:
        """The primary's best value; with several objectives, every objective at that epoch (None if one lacks)."""
        if len(self._objectives) == 1:
            return self._best.get(trial_id)
        row = self._best_result.get(trial_id, {})
        values = [row.get(metric) for metric, _ in self._objectives]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            return None
        return [float(v) for v in values]  # type: ignore[arg-type]

    def _tell_fidelity(self, trial: optuna.trial.Trial, trial_id: str) -> None:
        """A multi-objective study takes no per-epoch values (Optuna's `report` is single-objective): a stopped
        trial keeps the objectives it reached, at its best epoch, as the user attribute `stopped_at`."""
        row = self._best_result.get(trial_id)
        if row is not None:
            trial.set_user_attr("stopped_at", {k: row.get(k) for k in [EPOCH, *(m for m, _ in self._objectives)]})

    def _tell_constraints(self, trial: optuna.trial.Trial, result: dict) -> None:
        """Each constraint's violation (<= 0: met) from the trial's last result, where it holds the metric."""
        for c in self._constraints:
            value = result.get(c.metric)
            if isinstance(value, (int, float)) and math.isfinite(value):
                trial.set_constraint(str(c), c.violation(float(value)))

    # -- persistence: the study is in its own storage; pickles hold only what Optuna does not
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("ray_trials", None)  # what one resume read from Ray's record, not part of the searcher
        if self._study_in_experiment:
            # Ray pickles the searcher into tuner.pkl and searcher-state-*.pkl; an RDBStorage reconnects to
            # the launch folder's file when unpickled (rewriting it, in WAL mode), so leave it out and let
            # `restore` open the study where the folder is now; trials are kept as their storage ids
            ids = {tid: t if isinstance(t, int) else storage_id(t)
                   for tid, t in ray_compat.optuna_search_trials(self).items()}
            state.update(ray_compat.optuna_search_pickle_state(ids))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({"_best_result": {}, "_constraints": (), **state})
        if "_objectives" not in state:  # pickled before search.objectives existed: its one metric
            self._objectives = [(self.metric, ray_compat.optuna_search_mode(self))]

    def save(self, checkpoint_path: str) -> None:
        if not self._study_in_experiment:
            return super().save(checkpoint_path)
        state = self.__getstate__()
        study_dir = state.pop("study_dir", None)
        with open(checkpoint_path, "wb") as f:
            pickle.dump(state, f)
        if study_dir and is_uri(study_dir):  # Ray uploads its staging folder: the journal goes with this state
            stage_journal(study_dir, Path(checkpoint_path).parent)

    def restore(self, checkpoint_path: str) -> None:
        # Ray may hand us a staged copy of the state file; the study file stays in the experiment
        # folder, which `resume_experiment` names here (it may have moved since the launch)
        study_dir = self.__dict__.get("study_dir") or str(Path(checkpoint_path).parent)
        recorded = self.__dict__.get("ray_trials")  # set by `resume_experiment`, not in the pickle
        with open(checkpoint_path, "rb") as f:
            state = pickle.load(f)  # noqa: S301 - our own state file; resume only experiments you trust
        if not state.get("_study_in_experiment"):
            return super().restore(checkpoint_path)
        self.__dict__.update(state)
        self.study_dir = study_dir
        if is_uri(study_dir):
            fetch_journal(study_dir)
        storage = study_storage(study_ref(study_dir))
        name, sampler = ray_compat.optuna_search_identity(self)
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler,
                                  pruner=optuna.pruners.NopPruner())
        ids: dict[str, int] = dict(ray_compat.optuna_search_trials(self))
        completed = ray_compat.optuna_search_completed(self)
        adopted: list[str] = []
        if recorded is not None:
            ids, adopted = reconcile(study, ids, completed, recorded, ray_compat.optuna_search_space(self))
        live = {tid: i for tid, i in ids.items() if tid not in completed}
        close_dangling_trials(study, keep=set(live.values()))
        trials = {tid: live_trial(study, i) for tid, i in ids.items()}
        ended = {storage_id(t): t for t in study.get_trials(deepcopy=False) if t.state.is_finished()}
        for tid, i in live.items():  # ended when the last run stopped; Ray continues it now
            if i in ended:
                trials[tid] = reopen_trial(study, ended[i])
        ray_compat.optuna_search_reopen(self, storage, study, trials)
        if adopted:  # an older random stream would replay what it proposed after that state was saved
            sampler.reseed_rng()


def base_searcher(search_alg: Any) -> TrialAwareOptunaSearch:
    """The searcher inside Ray's wrappers (SearchGenerator, ConcurrencyLimiter)."""
    while hasattr(search_alg, "searcher"):
        search_alg = search_alg.searcher
    return search_alg


def end_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> optuna.trial.TrialState:
    """Tell Optuna a trial ended without a final score: PRUNED at the values it reported (TPE ranks it at
    the fidelity it reached), or FAIL if it reported none."""
    state = optuna.trial.TrialState.PRUNED if trial.intermediate_values else optuna.trial.TrialState.FAIL
    study.tell(trial.number, state=state, skip_if_finished=True)
    return state


def close_dangling_trials(study: optuna.Study, keep: set[int]) -> int:
    """End the RUNNING trials that no live Ray trial will finish (see `end_trial`); returns how many."""
    closed = 0
    for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if storage_id(t) not in keep:
            end_trial(study, t)
            closed += 1
    if closed:
        log.warning("closed %d Optuna trial(s) left RUNNING by an interrupted run", closed)
    return closed


def end_running_trials(cfg: ExperimentConfig, exp_path: str) -> int:
    """When a search ends (deadline, Ctrl-C, num_samples reached, error), end every trial still RUNNING.

    Ray stops the trials still training at a deadline or on Ctrl-C without telling the searcher; left
    RUNNING, they would show as running for ever (optuna-dashboard) and count as phantom trials for
    anything that reuses the study. A resume that continues such a trial reopens it (`reopen_trial`).
    """
    storage = study_storage(study_ref(exp_path, cfg.search.study_storage))
    try:
        study = optuna.load_study(study_name=cfg.name, storage=storage)
    except KeyError:  # the search ended before its study was created
        return 0
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for t in running:
        end_trial(study, t)
    if running and is_uri(exp_path) and in_results(cfg.search.study_storage):
        publish_journal(exp_path)  # Ray's last upload came before these ends
    return len(running)


def reopen_trial(study: optuna.Study, ended: optuna.trial.FrozenTrial) -> optuna.trial.Trial:
    """A RUNNING copy (parameters, reported values) of an ended trial that a resumed Ray trial continues.

    Optuna never reopens a finished trial; the copy records which trial it continues (`continues_trial`).
    """
    copy = add_running_trial(study, ended.params, ended.distributions, {**ended.user_attrs, "continues_trial": ended.number},
                             "continues_trial", ended.intermediate_values)
    return live_trial(study, storage_id(copy))


def startup_trials(cfg: ExperimentConfig) -> int:
    """Random trials before TPE models the space: a third of the budget, between 3 and 10."""
    if cfg.search.startup_trials is not None:
        return cfg.search.startup_trials
    return max(3, min(10, cfg.budget.num_samples // 3))


def warm_start_points(space: Space) -> list[dict[str, Any]]:
    consts = {p.name for p in space.params if isinstance(p, Constant)}
    return [{k: v for k, v in point.items() if k not in consts} for point in space.warm_start]


def tpe_sampler(cfg: ExperimentConfig, space: Space) -> optuna.samplers.BaseSampler:
    """Seeded multivariate TPE; `startup_trials` random ones first. It reads the study once per trial and models
    a bounded history (`SnapshotSampler`), so the driver's time per suggestion stays flat as the study grows."""
    return SnapshotSampler(optuna.samplers.TPESampler(
        seed=cfg.search.seed, n_startup_trials=startup_trials(cfg), multivariate=True, group=True,
        constant_liar=True,  # concurrent trials: avoid proposing the same point twice
    ))


def prior_sampler(cfg: ExperimentConfig, space: Space) -> optuna.samplers.BaseSampler:
    """The space's warm starts as a prior, then the incumbent, handing over to TPE (search/prior_sampler.py)."""
    from .prior_sampler import prior_sampler_for

    if not space.warm_start:  # no prior to draw around: plain TPE
        return tpe_sampler(cfg, space)
    return prior_sampler_for(space, seed=cfg.search.seed)


def random_sampler(cfg: ExperimentConfig, space: Space) -> optuna.samplers.BaseSampler:
    """Seeded uniform sampling: the baseline every other sampler should beat (benchmarks/real_compute.py)."""
    return optuna.samplers.RandomSampler(seed=cfg.search.seed)


# search.sampler -> how the Optuna sampler is built
SAMPLERS: dict[str, Callable[[ExperimentConfig, Space], optuna.samplers.BaseSampler]] = {
    "tpe": tpe_sampler, "prior": prior_sampler, "random": random_sampler}


def build_searcher(cfg: ExperimentConfig, space: Space, exp_path: str, staged: bool = False) -> TrialAwareOptunaSearch:
    """The configured sampler (SAMPLERS) over the space's define-by-run function, warm-started from the space."""
    sampler = SAMPLERS[cfg.search.sampler](cfg, space)
    # each trial's own training seed: distinct per trial, reproducible from the experiment seed
    space_fn = define_by_run(space, seed_key=SEED_KEY, seed_base=cfg.search.seed * 100_003)
    points = warm_start_points(space) if cfg.search.warm_start else None
    in_experiment = in_results(cfg.search.study_storage)
    if in_experiment and is_uri(exp_path):
        fresh_journal(exp_path)  # a new study: not one an earlier experiment of that URI left on this disk
    storage = study_storage(study_ref(exp_path, cfg.search.study_storage))
    objectives = [(o.metric, o.mode) for o in cfg.objectives]
    # several objectives: a multi-objective study (one direction each); Ray's TuneConfig and ASHA keep the first
    metric: str | list[str] = [m for m, _ in objectives] if len(objectives) > 1 else cfg.search.metric
    mode: str | list[str] = [d for _, d in objectives] if len(objectives) > 1 else cfg.mode
    searcher = TrialAwareOptunaSearch(space=space_fn, metric=metric, mode=mode,
                                      points_to_evaluate=points or None, sampler=sampler, storage=storage,
                                      study_name=cfg.name, max_epochs=cfg.budget.max_epochs,
                                      study_in_experiment=in_experiment, objectives=objectives,
                                      constraints=cfg.constraints, staged=staged)
    searcher.study_dir = exp_path  # where `save` finds the study (a bucket's journal is staged for upload)
    return searcher

"""Launch a search, and resume one: the only place that builds a Ray Tune `Tuner`."""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.errors import ExperimentError
from analysis.experiment_data import data_source, load_data, saved_config, settings_for  # noqa: F401 (re-exported)
from analysis.layout import (  # noqa: F401 (re-exported)
    SPACE_FILE,
    abandon_unrecorded,
    experiment_folder,
    read_space,
    read_trial_states,
)
from analysis.location import Where, as_path
from analysis.run_log import LAUNCH, RESUME, read_run_log
from spaces import Space, resolve_space
from trainables.data import TrialData
from trainables.stages import Ladder

from .config import ConfigError, ExperimentConfig
from .custom_model import check_builders, shipped_code, with_named_builders
from .experiment_dir import check_writable, experiment_path, save_experiment_files
from .run_record import SLACK_S, NothingToResume, recorded_run, time_used
from .searcher_reconcile import FINISHED
from .space_check import check_space
from .weights_check import missing_weights

# Ray keeps a trial's best CHECKPOINTS_KEPT checkpoints by the metric, plus its latest. Ray also saves the whole
# experiment state (every trial's record: slower as the search grows) whenever one trial has written that many
# checkpoints since the last save; at 2, a search of short trials (most trials ASHA stops in their first epochs)
# saved it at almost every trial's end (driver CPU per trial 0.112 s at 2, 0.045 s at 3, 1,000 trials,
# benchmarks/scale.py).
CHECKPOINTS_KEPT = 3

if TYPE_CHECKING:  # Ray is imported only when a search starts
    from ray import tune
    from ray.tune.search import Searcher

log = logging.getLogger("hpsearch")


# A user-facing error found before (or instead of) launching. One class with analysis's error, so the
# CLI and any caller catch either name.
LaunchError = ExperimentError


@dataclass
class Prepared:
    """Everything validated and loaded, before Ray is touched."""

    cfg: ExperimentConfig
    space: Space
    data: TrialData | None  # loaded to check it, and dropped once the search starts: nodes load their own
    path: str
    started: float = 0.0      # time.time() when preparing began: a time budget counts from here
    test: tuple[Any, Any] | None = None  # the held-out test images and labels (a time-budgeted run tests once)
    sizes: tuple[int, int] = (0, 0)  # train and validation images

    @property
    def test_images(self) -> int:
        return 0 if self.test is None else len(self.test[1])

    @property
    def loaded(self) -> TrialData:
        """The train/validation split loaded by `prepare` (a search's `_fit` drops its own reference)."""
        if self.data is None:
            raise LaunchError("the data of this prepared search were dropped when its search started")
        return self.data


def prepare(cfg: ExperimentConfig, base_dir: str | Path = ".", space: Space | None = None) -> Prepared:
    """Resolve and check the space, load and split the data. Raises on any problem; writes nothing."""
    started = time.time()
    space = checked_space(cfg, base_dir, space)
    for problem in missing_weights(space, cfg.pretrained_weights):  # those trials will error; say so up front
        log.warning("warning: %s", problem)
    raw, data = load_data(cfg)
    test = (raw.x_test, raw.y_test) if raw.x_test is not None and raw.y_test is not None else None
    return Prepared(cfg, space, data, experiment_path(cfg.storage, cfg.name), started, test,
                    (len(data.y_train), len(data.y_val)))


def checked_space(cfg: ExperimentConfig, base_dir: str | Path = ".", space: Space | None = None) -> Space:
    """The experiment's space, checked against the knobs; a custom model's builders as references that
    resolve here, their files added to `cfg.cluster.runtime_env` (see `search.custom_model`)."""
    space = with_named_builders(space or resolve_space(cfg.space, base_dir))
    check_space(space)
    check_builders(space, cfg.cluster.runtime_env)
    cfg.cluster.runtime_env = shipped_code(cfg.cluster.runtime_env, space)
    return space


def connect(address: str | None, verbose: bool = False, allow_unauthenticated: bool = False,
            runtime_env: dict[str, Any] | None = None) -> None:
    """Start embedded local Ray, or join a cluster. The dashboard stays off.

    Ray's processes listen on every network interface, so they must require Ray's token authentication:
    always for embedded Ray (the token is Ray's, ~/.ray/auth_token or RAY_AUTH_TOKEN[_PATH]); and a cluster
    that does not is refused unless the experiment opts out (`cluster.allow_unauthenticated: true`).
    """
    import ray
    from ray.exceptions import AuthenticationError

    from ._ray_compat import use_token_auth

    if ray.is_initialized():
        return
    # per-epoch checkpoints are the point; Ray's warning about frequent state snapshots is noise here
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    # without --verbose only errors: Ray's start-up warnings would break the progress view
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": verbose,
                              "logging_level": logging.INFO if verbose else logging.ERROR}
    # "local": always a fresh embedded Ray, never an unrelated cluster that happens to run on this machine
    kwargs["address"] = address or "local"
    if runtime_env:  # the user's own code (a custom model) reaches every node; see search.custom_model
        kwargs["runtime_env"] = runtime_env
    if address is None or not allow_unauthenticated:
        use_token_auth()
    try:
        ray.init(**kwargs)
    except AuthenticationError as e:
        raise LaunchError(f"cannot join the Ray cluster at {address}: {e}") from None
    if address is not None and not allow_unauthenticated:
        _refuse_unauthenticated(address)


def _refuse_unauthenticated(address: str) -> None:
    import grpc
    import ray

    from ._ray_compat import gcs_requires_token

    gcs = ray.get_runtime_context().gcs_address
    try:
        protected = gcs_requires_token(gcs)
    except grpc.RpcError as e:
        protected, why = False, f"its GCS at {gcs} could not be asked ({e.code().name})"
    else:
        why = "it accepts requests without Ray's token authentication: anyone who reaches it can run code on it"
    if not protected:
        ray.shutdown()
        raise LaunchError(f"refusing to join the Ray cluster at {address}: {why}. Start its nodes with "
                          "RAY_AUTH_MODE=token and the same token on every node (RAY_AUTH_TOKEN or ~/.ray/auth_token; "
                          "https://docs.ray.io/en/latest/ray-security/token-auth.html), or set "
                          "cluster.allow_unauthenticated: true to join it anyway")


def _in_process(cfg: ExperimentConfig) -> bool:
    """Whether the dataset exists only in this process (arrays given to `search.api.run`)."""
    from trainables.data.in_memory import ARRAYS

    return cfg.dataset.name == ARRAYS


def _trainable(prep: Prepared, ladder: Ladder | None = None) -> Callable[..., Any]:
    from ray import tune

    from trainables.models.builders import registered_builders
    from trainables.ray_trainable import train_trial

    cfg = prep.cfg
    # trials get where the data is, not the arrays: each node decodes it once (trainables.node_data); arrays
    # given from Python exist only in this process, so they travel through the object store instead
    fn = tune.with_parameters(train_trial, data=prep.data if _in_process(cfg) else data_source(cfg),
                              settings=settings_for(cfg), metric=cfg.search.metric,
                              builders=registered_builders(), ladder=ladder)
    return tune.with_resources(fn, {"cpu": cfg.resources.cpus_per_trial, "gpu": cfg.resources.gpus_per_trial})


def _trial_dirname(trial: Any) -> str:
    return f"trial_{trial.trial_id}"


def checkpoint_config(metric: str, mode: str) -> tune.CheckpointConfig:
    """Ray's CheckpointConfig: a trial's best CHECKPOINTS_KEPT checkpoints by `metric`, plus its latest."""
    from ray import tune

    return tune.CheckpointConfig(num_to_keep=CHECKPOINTS_KEPT, checkpoint_score_attribute=metric,
                                 checkpoint_score_order=mode)


def failure_config(max_failures: int) -> tune.FailureConfig:
    """Ray's FailureConfig: a trial whose worker or node died is retried from its last checkpoint.

    Installs the fix for Ray Tune counting one death of a reused worker twice (see
    `_ray_compat.count_actor_failures_once`): a node death must cost a retry, never the trial.
    """
    from ray import tune

    from ._ray_compat import count_actor_failures_once

    count_actor_failures_once()
    return tune.FailureConfig(max_failures=max_failures)


def build_tuner(prep: Prepared, verbose: bool = False, callbacks: list | None = None,
                ladder: Ladder | None = None) -> tune.Tuner:
    """The Tuner: OptunaSearch + ASHA, metric/mode named once in TuneConfig.

    With a stage `ladder` (a time-budgeted run), trials climb its stages, ASHA decides between stages,
    and Tune samples trials until the ladder's deadline (its time budget).
    """
    from ray import tune
    from ray.tune.search import ConcurrencyLimiter

    from .scheduler import build_scheduler
    from .search_generator import ExtendableSearchGenerator
    from .searcher import build_searcher

    cfg = prep.cfg
    optuna_search = build_searcher(cfg, prep.space, prep.path, staged=ladder is not None)
    if ladder is not None and ladder.deadline is not None:
        optuna_search.last_start = ladder.deadline - ladder.stage_seconds(0)
    searcher: Searcher = optuna_search
    if cfg.resources.max_concurrent:
        searcher = ConcurrencyLimiter(searcher, max_concurrent=cfg.resources.max_concurrent)
    tune_config = tune.TuneConfig(
        metric=cfg.search.metric, mode=cfg.mode,
        search_alg=ExtendableSearchGenerator(searcher),
        scheduler=build_scheduler(cfg, ladder),
        num_samples=cfg.budget.num_samples if ladder is None else -1,
        time_budget_s=_time_budget(cfg, ladder), trial_dirname_creator=_trial_dirname,
        # a new trial reuses a finished trial's worker process instead of starting one (and
        # importing torch) again: the largest per-trial cost (benchmarks/overhead.py)
        reuse_actors=True,
    )
    run_config = tune.RunConfig(
        name=cfg.name, storage_path=str(Path(prep.path).parent) if "://" not in prep.path else cfg.storage,
        failure_config=failure_config(cfg.resources.max_failures),
        checkpoint_config=checkpoint_config(cfg.search.metric, cfg.mode),
        verbose=2 if verbose else 0, callbacks=callbacks or [],
        # Tune's default reporter in Jupyter clears the cell (our header and view) even when it reports
        # nothing; a CLIReporter at verbose 0 never prints. With --verbose, Tune's own reporter is the view.
        progress_reporter=None if verbose else tune.CLIReporter(),
    )
    return tune.Tuner(_trainable(prep, ladder), tune_config=tune_config, run_config=run_config)


def _time_budget(cfg: ExperimentConfig, ladder: Ladder | None) -> float | None:
    """Tune's time budget: the configured one, or with a ladder the seconds left until its deadline."""
    if ladder is None or ladder.deadline is None:
        return cfg.budget.time_budget_s
    return max(1.0, ladder.deadline - time.time())


def run_experiment(prep: Prepared, verbose: bool = False, callbacks: list | None = None) -> str:
    """Launch a new search; refuses to touch an experiment folder that already exists.

    Every check comes before the first write: an impossible request leaves no folder behind.
    A time-budgeted config (`budget.mode: time`) runs as `search.timed_run.run_timed` plans it.
    """
    if prep.cfg.budget.mode == "time":
        from .timed_run import run_timed

        return run_timed(prep, verbose, callbacks)
    start_new(prep, verbose)
    save_experiment_files(prep.path, prep.cfg.to_dict(), prep.space)
    with recorded_run(prep.path, LAUNCH, prep.cfg) as record:
        record(_fit(build_tuner(prep, verbose, callbacks), prep))
    return prep.path


def start_new(prep: Prepared, verbose: bool = False) -> None:
    """Refuse an existing experiment folder, start or join Ray, check the storage: all before the first write."""
    folder = as_path(prep.path)  # a local folder or one in object storage
    if folder.is_dir() and any(folder.iterdir()):
        raise LaunchError(f"experiment {prep.path} already exists; resume it with `hpsearch resume {prep.path}`, "
                          "or choose another name with --set name=NEW_NAME")
    _connect_checked(prep.cfg, prep.cfg.address, verbose)
    problem = check_writable(prep.cfg.storage)  # creates the storage folder
    if problem:
        raise LaunchError(f"storage {prep.cfg.storage!r} is not writable: {problem}")


def _fit(tuner: Any, prep: Prepared) -> Any:
    """Run the search, each node loading the data; however it ends, tell Optuna how each trial still RUNNING ended."""
    from trainables.node_data import start_loaders

    from .searcher import end_running_trials

    if _in_process(prep.cfg):  # arrays given from Python: the trials have them through the object store
        loaders = None
    else:
        prep.data = None  # the driver holds no dataset during the search
        loaders = start_loaders(data_source(prep.cfg))
    try:
        return tuner.fit()
    finally:
        del loaders  # the nodes' copies go with their loaders
        end_running_trials(prep.cfg, prep.path)


def _connect_checked(cfg: ExperimentConfig, address: str | None, verbose: bool) -> None:
    """Start or join Ray, refusing (before anything is written) a trial that no node can run."""
    import ray

    from .resources import check_cluster, check_machine

    embedded = address is None and not ray.is_initialized()
    if embedded:
        check_machine(cfg)  # before Ray starts: the machine is all there is
    connect(address, verbose, cfg.cluster.allow_unauthenticated, cfg.cluster.runtime_env)
    if not embedded:
        check_cluster(cfg)


def check_resumable(path: str | Path) -> ExperimentConfig:
    """Config of an experiment whose saved search state is readable; LaunchError naming a damaged file."""
    from .resume_state import DamagedStateError, validate_state

    try:  # the state files first: this needs neither torch nor the dataset registry, so it fails fast
        validate_state(experiment_folder(path))
    except DamagedStateError as e:
        raise LaunchError(f"cannot resume: {e}. Nothing was changed.") from None
    cfg = saved_config(path)
    if cfg.budget.mode == "time":  # its plan (stages, deadline, final training) was for one uninterrupted run
        raise LaunchError(f"cannot resume {path}: a time-budgeted run (budget.mode: time) is planned as one "
                          "uninterrupted run. Start a new one (hpsearch run), or retrain its best trial with "
                          f"`hpsearch final {path}`. Nothing was changed.")
    return cfg


def load_prepared(path: Where, overrides: list[str] | None = None) -> Prepared:
    """Re-read a saved experiment's config and space, reload its data (for resume and analysis)."""
    path = as_path(path)
    cfg = saved_config(path, overrides)
    space = read_space(path)
    if space is None:
        raise LaunchError(f"{path} has no {SPACE_FILE}: it cannot be resumed or analysed")
    prep = prepare(cfg, ".", space)
    prep.path = str(path)  # the folder may have been moved or copied: results go where it is now
    return prep


def resume_experiment(path: str | Path, verbose: bool = False, callbacks: list | None = None,
                      address: str | None = None, num_samples: int | None = None,
                      state_checked: bool = False) -> str:
    """Continue an interrupted search where it stopped; optionally raise its budget to `num_samples`.

    Finished trials are kept as they are, unfinished ones continue from their last checkpoint,
    errored ones restart; ASHA's rungs are rebuilt from the recorded results first. A search whose
    time budget is used up raises NothingToResume (Ray would start nothing, and say nothing).
    """
    from ray import tune

    from ._ray_compat import count_actor_failures_once, restored_tune_config, set_restored_callbacks
    from .resume_state import recorded_history
    from .searcher import base_searcher

    if not state_checked:  # before loading any data: a damaged state file fails in seconds
        check_resumable(path)
    prep = load_prepared(path)
    used = _check_budgets(prep, num_samples)
    _connect_checked(prep.cfg, address or prep.cfg.address, verbose)
    tuner = tune.Tuner.restore(prep.path, trainable=_trainable(prep), resume_unfinished=True, resume_errored=True)
    # Tuner.restore re-reads the TuneConfig pickled at launch; reach into it to hand the restored run
    # what Ray does not save: ASHA's rungs, and a larger budget when asked for
    tune_config = restored_tune_config(tuner)
    recorded = read_trial_states(as_path(prep.path))  # the experiment state Ray restores from
    lost = abandon_unrecorded(as_path(prep.path), set(recorded))
    if lost:
        log.warning("%d trial(s) started by the interrupted run were never recorded in its saved state and cannot be "
                    "continued: %s (their folders stay; analysis leaves them out)", len(lost), ", ".join(sorted(lost)))
    base_searcher(tune_config.search_alg).study_dir = prep.path
    base_searcher(tune_config.search_alg).ray_trials = recorded
    tune_config.search_alg.recorded_trials = len(recorded)
    # resume_unfinished and resume_errored: Ray continues every recorded trial it did not finish
    tune_config.search_alg.continued_trials = {t for t, s in recorded.items() if s["status"] != FINISHED}
    tune_config.search_alg.experiment_path = prep.path
    tune_config.scheduler.replay(recorded_history(as_path(prep.path), prep.cfg.search.metric), prep.cfg.mode)
    if num_samples is not None:
        tune_config.num_samples = num_samples
        tune_config.search_alg.extend_to = num_samples
        _update_saved_budget(prep, num_samples)
    set_restored_callbacks(tuner, list(callbacks or []))
    count_actor_failures_once()
    with recorded_run(prep.path, RESUME, prep.cfg, used) as record:
        record(_fit(tuner, prep))
    return prep.path


def _check_budgets(prep: Prepared, num_samples: int | None) -> float:
    """Seconds the search has run so far; refuses a lower trial budget, and a time budget already used up.

    Ray carries the time left across a resume (its stopper is saved with the run), so a search that
    reached its time budget would restart, stop at once and report nothing: say so instead.
    """
    budget = prep.cfg.budget
    if num_samples is not None and num_samples < budget.num_samples:
        raise LaunchError(f"--num-samples {num_samples} is below the experiment's {budget.num_samples}")
    used = time_used(prep.path)
    timed_out = read_run_log(prep.path).finished_by_time_budget
    if budget.time_budget_s is not None and (timed_out or budget.time_budget_s - used <= SLACK_S):
        raise NothingToResume(f"{prep.path}: finished: its time budget ({budget.time_budget_s:g} s) is used up "
                              f"({used:.0f} s run); nothing to resume. To search longer, launch a new experiment "
                              "with a larger budget.time_budget_s (hpsearch run ... --set name=NEW_NAME)")
    return used


def _update_saved_budget(prep: Prepared, num_samples: int) -> None:
    prep.cfg.budget.num_samples = num_samples
    save_experiment_files(prep.path, prep.cfg.to_dict(), prep.space)


__all__ = ["ConfigError", "LaunchError", "Prepared", "build_tuner", "checked_space", "connect", "load_prepared",
           "prepare", "resume_experiment", "run_experiment"]

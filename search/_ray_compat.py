"""Every use of Ray internals in hpsearch, in one place.

Ray Tune has no public API for what resume needs (the TuneConfig a `Tuner.restore` re-read, ASHA's
rungs, the pickled search generator's budget and storage) or for the state `OptunaSearch` keeps.
Each access below names its reason and the Ray versions it was checked against; the contract tests
(tests/search_tests/test_compat.py) fail with the attribute's name when a release moves one, and
pyproject.toml caps Ray at the newest version checked. Everything else in hpsearch calls these
functions instead of reaching into Ray.
"""
from __future__ import annotations

from typing import Any

CHECKED = "ray 2.60.0"  # every access below was read in, and tested against, this version


# -- Tuner.restore: the restored run's TuneConfig and RunConfig (no public setter exists)
def restored_tune_config(tuner: Any) -> Any:
    """The TuneConfig a restored Tuner re-read from tuner.pkl: resume hands it ASHA's rungs and a larger budget."""
    return tuner._local_tuner._tune_config


def set_restored_callbacks(tuner: Any, callbacks: list) -> None:
    """`Tuner.restore` takes no RunConfig: this run's callbacks (progress, tracking) replace the pickled ones."""
    tuner._local_tuner._run_config.callbacks = list(callbacks)


# -- AsyncHyperBandScheduler: Ray does not save rungs, resume replays them (no public access)
def asha_bracket(scheduler: Any) -> Any:
    """ASHA's only bracket (hpsearch builds ASHA with one); `on_result(trial, t, value)` records a result."""
    return scheduler._brackets[0]


def asha_rungs(scheduler: Any) -> list[tuple[float, dict]]:
    """`(milestone, {trial_id: value})` per rung of the only bracket."""
    return list(asha_bracket(scheduler)._rungs)


# -- SearchGenerator: the restored budget and the pickled Experiment's storage
def generator_budget(generator: Any) -> int:
    """How many trials the search generator will create in all (num_samples at launch)."""
    return generator._total_samples


def extend_generator_budget(generator: Any, total: int) -> None:
    """Raise the budget of a restored generator that may already have declared itself finished."""
    generator._total_samples = total
    generator._finished = False


def generator_storage(generator: Any) -> Any | None:
    """The StorageContext new trials are created with (it names the folder the search was launched in)."""
    experiment = generator._experiment
    return experiment.spec.get("storage") if experiment is not None else None


def set_generator_storage(generator: Any, storage: Any) -> None:
    """Point new trials at the folder where the experiment is now (moved or copied since the launch)."""
    generator._experiment.spec["storage"] = storage
    generator._experiment.storage = storage


# -- OptunaSearch: its study and its Ray-trial -> Optuna-trial map (hpsearch tells Optuna itself)
def optuna_search_pickle_state(trial_ids: dict[str, int]) -> dict[str, Any]:
    """What replaces OptunaSearch's study in its pickled `__dict__`: no storage or study (an RDBStorage would
    reconnect to the launch folder's file when unpickled), and each trial as its storage id."""
    return {"_storage": None, "_ot_study": None, "_ot_trials": dict(trial_ids)}


def optuna_search_mode(searcher: Any) -> str:
    """'max' or 'min', as Ray resolved it (set by TuneConfig after construction)."""
    return searcher._mode


def optuna_search_study(searcher: Any) -> Any:
    return searcher._ot_study


def optuna_search_trials(searcher: Any) -> dict[str, Any]:
    """Ray trial id -> the Optuna Trial it runs as (or its storage id while pickled)."""
    return searcher._ot_trials


def optuna_search_completed(searcher: Any) -> set[str]:
    """Ray trial ids whose Optuna trial was already told."""
    return searcher._completed_trials


def optuna_search_reopen(searcher: Any, storage: Any, study: Any, trials: dict[str, Any]) -> None:
    """After unpickling: the study re-opened where the experiment folder is now, and its trials."""
    searcher._storage, searcher._ot_study, searcher._ot_trials = storage, study, trials


def optuna_search_space(searcher: Any) -> Any:
    """The define-by-run function (or parameter dict) the searcher samples."""
    return searcher._space


def set_generator_counter(generator: Any, created: int) -> None:
    """How many trials a restored generator has created (it names new trials from it and stops at its budget)."""
    generator._counter = created


def reset_live_trials(limiter: Any, live: set[str]) -> None:
    """A restored ConcurrencyLimiter counts as running exactly the trials Ray continues. Its own state file can
    be older than Ray's record (a kill between the two saves): a trial it still counts that Ray had finished
    would hold a slot forever (Tune then waits 600 s at a time for a suggestion), and one it does not count
    would neither be limited nor reported to the searcher when it completes."""
    from ray.tune.search import ConcurrencyLimiter

    if isinstance(limiter, ConcurrencyLimiter) and not limiter.batch:
        limiter.live_trials = set(live)
        limiter.num_unfinished_live_trials = len(live)


def generator_counter(generator: Any) -> int:
    return generator._counter


def optuna_search_identity(searcher: Any) -> tuple[str, Any]:
    """(study name, sampler) the searcher was built with, to re-open its study."""
    return searcher._study_name, searcher._sampler


# -- TuneController: one actor death counted once, and no reuse of workers on a node that may be gone
def count_actor_failures_once() -> None:
    """Fix Ray Tune's handling of a worker that dies while it is being reused (reuse_actors=True).

    When the actor given to a PENDING trial dies during its `reset` (its node died), Ray 2.60's
    `TuneController._actor_failed` processes the failure, requeues the trial as PENDING, and the
    failed reset task then processes the same exception again: a second "Failure #" in the same
    second, and since the trial is PENDING by then, it goes to ERROR whatever `max_failures` says.
    Patched: an exception already processed for a trial is ignored; the trial's failed reset is
    forgotten (Ray would otherwise wait for it forever before giving the retry a worker); and an actor
    failure evicts the cached (idle, reusable) workers, which may live on the same dead node, so the
    retry gets a new worker on a live node. Idempotent; affects only the driver process.
    """
    from ray.exceptions import RayActorError
    from ray.tune.execution.tune_controller import TuneController

    original = TuneController._trial_task_failure
    if getattr(original, "hpsearch_patched", False):
        return

    def _trial_task_failure(self: Any, trial: Any, exception: Exception) -> None:
        if isinstance(exception, RayActorError):
            seen = self.__dict__.setdefault("_hpsearch_actor_failures", {})
            if seen.get(trial.trial_id) is exception:
                return  # the same actor death, already handled when the actor failed
            seen[trial.trial_id] = exception
            self._resetting_trials.discard(trial)
            self._cleanup_cached_actors(force_all=True)
        original(self, trial, exception)

    _trial_task_failure.hpsearch_patched = True  # type: ignore[attr-defined]
    # the deliberate patch described above: mypy forbids assigning to a method of Ray's class
    TuneController._trial_task_failure = _trial_task_failure  # type: ignore[method-assign]


# -- token authentication (Ray >= 2.52): the mode is read once per process into Ray's config
def use_token_auth() -> None:
    """Turn Ray's token authentication on for this process and the Ray processes it starts.

    Ray reads RAY_AUTH_MODE into its cached config when first imported; like Ray's own
    `_enable_token_auth`, refresh that config so this process sends its token too.
    """
    import os

    # Config is real (Cython), but Ray's hand-written _raylet.pyi stub does not declare it
    from ray._raylet import Config  # type: ignore[attr-defined]

    os.environ["RAY_AUTH_MODE"] = "token"
    Config.initialize("")


def gcs_requires_token(gcs_address: str, timeout: float = 10.0) -> bool:
    """Whether a cluster's GCS refuses a request that carries no token (a gRPC call with Ray's own stubs).

    Raises grpc.RpcError when the GCS cannot be reached at all.
    """
    import grpc
    from ray.core.generated import gcs_service_pb2, gcs_service_pb2_grpc

    with grpc.insecure_channel(gcs_address) as channel:
        stub = gcs_service_pb2_grpc.NodeInfoGcsServiceStub(channel)
        try:
            # protobuf creates the message classes at import time; Ray ships no .pyi stubs for them
            request = gcs_service_pb2.GetClusterIdRequest()  # type: ignore[attr-defined]
            stub.GetClusterId(request, timeout=timeout)
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.UNAUTHENTICATED:
                return True
            raise
    return False

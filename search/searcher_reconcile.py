"""A resumed searcher agrees with Ray's record of the trials before it suggests anything.

Ray writes its experiment state, then the searcher's pickle (hpsearch stages the Optuna journal beside
it), and uploads the folder to object storage file by file in the background. A driver killed between
those writes, or during an upload, leaves state files of different ages. Left alone, a searcher or journal
older than Ray's record hands out again what it had already proposed (its random stream and the queued
warm starts replay), so the resumed search trains duplicates; trials it proposed that Ray never recorded
would stay RUNNING in the study for ever. `reconcile` repairs both before the first suggestion.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from ._optuna_compat import queued_params, storage_id

log = logging.getLogger("hpsearch")

FINISHED = "TERMINATED"  # the one Ray status a resumed run does not train again (errored ones restart)
ADOPTED_ATTR = "adopted_ray_trial"  # user attribute of an Optuna trial created for a Ray trial the searcher lost


def sampled(space_fn: Callable[[Any], Any], config: Mapping[str, Any]) -> optuna.trial.FixedTrial:
    """The space run on a Ray trial's config: `.params` and `.distributions` (its constants and seed left out)."""
    fixed = optuna.trial.FixedTrial(dict(config))
    space_fn(fixed)
    return fixed


def reconcile(study: optuna.Study, ids: Mapping[str, int], completed: set[str],
              recorded: Mapping[str, Mapping[str, Any]], space_fn: Callable[[Any], Any]) -> tuple[dict[str, int], list[str]]:
    """The searcher's map (Ray trial id -> Optuna storage id) made to match Ray's `recorded` trials
    (id -> {status, config}, in creation order), and the ids it had to adopt.

    A Ray trial the searcher does not know, or knows under a study trial with other parameters (a journal
    older than the pickle), is adopted: the study trial with its parameters, else its queued warm start
    (taken off the queue), else a new RUNNING trial. Every trial Ray finished is marked told (`completed`):
    the caller closes their study trials still RUNNING. Trials Ray never recorded leave the map.
    """
    by_id = {storage_id(t): t for t in study.get_trials(deepcopy=False)}
    out: dict[str, int] = {}
    adopted = []
    for tid, state in recorded.items():
        fixed = sampled(space_fn, state.get("config", {}))
        i = ids.get(tid)
        if i in by_id and by_id[i].params == fixed.params and i not in out.values():
            out[tid] = i
        else:
            out[tid] = _study_trial(study, fixed, space_fn, set(out.values()), tid,
                                    finished=state.get("status") == FINISHED)
            adopted.append(tid)
        if state.get("status") == FINISHED:
            completed.add(tid)
    if adopted:
        log.warning("the searcher's saved state was older than Ray's record of the trials (an interrupted save "
                    "or upload); took over %d trial(s) from the record: %s", len(adopted), ", ".join(adopted))
    return out, adopted


def _study_trial(study: optuna.Study, fixed: optuna.trial.FixedTrial, space_fn: Callable[[Any], Any],
                 claimed: set[int], tid: str, finished: bool) -> int:
    """Storage id of the study's trial for a Ray trial with these parameters (reopened or created if need be)."""
    from .searcher import reopen_trial

    params = fixed.params

    mine = [t for t in study.get_trials(deepcopy=False)
            if t.params == params and t.state != TrialState.WAITING and storage_id(t) not in claimed]
    running = [t for t in mine if t.state == TrialState.RUNNING]
    if running:
        return storage_id(running[0])
    if mine and finished:
        return storage_id(mine[0])
    if mine:
        return storage_id(reopen_trial(study, mine[0]))
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    if waiting and queued_params(waiting[0]) == params:
        queued = study.ask()  # Optuna pops its oldest queued trial: the warm start Ray was given
        space_fn(queued)  # its parameters are recorded as the space suggests them
        return storage_id(queued)
    return storage_id(add_running_trial(study, fixed.params, fixed.distributions, {ADOPTED_ATTR: tid}, ADOPTED_ATTR))


def add_running_trial(study: optuna.Study, params: dict[str, Any], distributions: dict[str, Any],
                      user_attrs: dict[str, Any], marker: str,
                      intermediate_values: Mapping[int, float] | None = None) -> FrozenTrial:
    """A new RUNNING trial, as stored. Optuna's `add_trial` returns nothing, so the trial is found again as
    the newest running one whose user attribute `marker` has the value given in `user_attrs`."""
    study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, state=TrialState.RUNNING,
                                              intermediate_values=dict(intermediate_values or {}),
                                              user_attrs=user_attrs))
    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            if t.user_attrs.get(marker) == user_attrs[marker]][-1]

"""A sampler wrapper that reads the study once per trial and shows its inner sampler a bounded history.

Multivariate TPE with `group=True` and `constant_liar=True` asks the storage for every trial of the study
several times per suggested trial (once per parameter group, and again for each conditional parameter,
uncached because of the constant liar); in the SQLite study each read costs tens of milliseconds, and the
model is rebuilt from every trial, so the driver's time per trial grew with the study (benchmarks/scale.py).
`SnapshotSampler` reads the trials once when a trial starts and hands its inner sampler that snapshot,
cut to `history` trials once the study is larger: the running ones, the best finished ones (TPE's "good"
group, at most 25 trials, always comes from these) and the most recent ones. Cost stays flat as the study
grows; within one trial nothing the sampler reads changes, since this driver is the study's only writer.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Container, Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.samplers import BaseSampler
from optuna.trial import FrozenTrial, TrialState

HISTORY = 256  # trials the sampler models once the study is larger: half the best, half the most recent


class _StudyView:
    """The study as the inner sampler sees it while one trial is suggested: a fixed list of trials."""

    def __init__(self, study: optuna.Study, trials: list[FrozenTrial]) -> None:
        self._study, self._trials = study, trials

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)

    def _get_trials(self, deepcopy: bool = True, states: Container[TrialState] | None = None,
                    use_cache: bool = False) -> list[FrozenTrial]:
        trials = self._trials if states is None else [t for t in self._trials if t.state in states]
        return copy.deepcopy(trials) if deepcopy else trials

    def get_trials(self, deepcopy: bool = True, states: Container[TrialState] | None = None) -> list[FrozenTrial]:
        return self._get_trials(deepcopy, states)

    @property
    def trials(self) -> list[FrozenTrial]:
        return self._get_trials()


def bounded(trials: Sequence[FrozenTrial], history: int, direction: optuna.study.StudyDirection) -> list[FrozenTrial]:
    """All running trials, the best `history // 2` complete ones and the most recent others, up to `history`
    finished trials, in trial-number order (as Optuna returns them)."""
    finished = [t for t in trials if t.state.is_finished()]
    if len(finished) <= history:
        return list(trials)
    sign = -1.0 if direction == optuna.study.StudyDirection.MAXIMIZE else 1.0
    complete = [t for t in finished if t.state == TrialState.COMPLETE and t.value is not None
                and math.isfinite(t.value)]
    keep = {t.number for t in sorted(complete, key=lambda t: sign * float(t.value or 0.0))[: history // 2]}
    for t in reversed(finished):
        if len(keep) >= history:
            break
        keep.add(t.number)
    return [t for t in trials if t.number in keep or not t.state.is_finished()]


class SnapshotSampler(BaseSampler):
    """`inner` (e.g. TPE) over one read of the study per trial, cut to `history` trials (see the module)."""

    def __init__(self, inner: BaseSampler, history: int = HISTORY) -> None:
        self.inner, self.history = inner, history
        self._view: _StudyView | None = None
        self._number: int | None = None

    def _study_view(self, study: optuna.Study, trial: FrozenTrial) -> Any:
        if self._view is None or self._number != trial.number or self._view._study is not study:
            trials = study.get_trials(deepcopy=False)
            # a multi-objective study has no single "best": its whole history is kept
            kept = bounded(trials, self.history, study.direction) if len(study.directions) == 1 else trials
            self._view = _StudyView(study, kept)
            self._number = trial.number
        return self._view

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_view": None, "_number": None}  # a snapshot is only good for one trial

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._view = None  # a new trial: read the study again
        self.inner.before_trial(study, trial)

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self.inner.infer_relative_search_space(self._study_view(study, trial), trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return self.inner.sample_relative(self._study_view(study, trial), trial, search_space)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self.inner.sample_independent(self._study_view(study, trial), trial, param_name, param_distribution)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._view = None
        self.inner.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self.inner.reseed_rng()

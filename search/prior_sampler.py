"""An Optuna sampler that uses warm-start configurations as a prior (after PriorBand and piBO).

Each new trial picks one *mode*, then draws every parameter the define-by-run function asks for:

- ``prior``: around one of the warm starts. Floats and ints: a normal centred on the warm-start
  value in the parameter's normalised range (log-normalised for log parameters), sd `spread`,
  truncated to the range. Categoricals: the warm-start value with probability `categorical_mass`,
  otherwise uniform. A parameter the warm start lacks (it exists only under other conditions) is
  drawn uniformly.
- ``incumbent``: the same draw centred on the best trial so far (COMPLETE first, then PRUNED by the
  step it reached and its value there), narrower (`mutation_spread`, `mutation_keep`).
- ``uniform``: uniformly over the range: the exploration floor that keeps a bad prior harmless.
- ``tpe``: multivariate TPE (grouped, constant liar: what `search.searcher` uses), which hands the
  study over to a model as soon as there are enough results to fit one.

`PriorSchedule` says how likely each mode is as a function of the number of finished (COMPLETE or
PRUNED) trials; see `PriorSchedule.probabilities`. Every draw comes from a generator seeded by
(seed, trial number, parameter name), so the same seed gives the same proposals whatever order
parameters are asked in and however trials interleave; TPE draws come from its own seeded sampler.
"""
from __future__ import annotations

import math
import statistics
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler, TPESampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from .study_snapshot import SnapshotSampler

MODES = ("prior", "incumbent", "uniform", "tpe")
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass(frozen=True)
class PriorSchedule:
    """Mixture of modes as a function of n, the number of finished trials.

    tpe(n)       = tpe_max * clip((n - tpe_from) / (tpe_full - tpe_from), 0, 1)
    uniform(n)   = (1 - tpe(n)) * uniform
    incumbent(n) = (1 - tpe(n)) * (1 - uniform) * n / (n + incumbent_halfway)   (0 without results)
    prior(n)     = the rest, times `trust`; what trust takes goes to the incumbent (to uniform without one)

    `trust` in [0, 1] is how well the prior explains the best trials so far (`PriorSampler.trust`,
    after PriorBand's prior-vs-incumbent likelihood test); 1 before there are results.
    With the defaults and full trust: n=0 -> 80% prior, 20% uniform; n=4 -> 40% prior, 40% incumbent,
    20% uniform, then TPE's share grows linearly from n=4 to 90% at n=16 (`tpe_from`=4 plays the part
    of TPE's random start-up trials, which it replaces: 4 rather than hpsearch's 3-10 uniform ones).
    """

    uniform: float = 0.2  # share of the non-TPE draws drawn uniformly, always
    incumbent_halfway: float = 4.0  # finished trials at which the incumbent gets half of the prior's share
    tpe_from: int = 4  # finished trials before TPE gets any share
    tpe_full: int = 16  # finished trials at which TPE reaches tpe_max
    tpe_max: float = 0.9  # the rest keeps mutating the incumbent, sampling the prior and uniformly

    def __post_init__(self) -> None:
        for name in ("uniform", "tpe_max"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"PriorSchedule.{name}={getattr(self, name)!r}: must be in [0, 1]")
        if self.incumbent_halfway <= 0:
            raise ValueError(f"PriorSchedule.incumbent_halfway={self.incumbent_halfway!r}: must be > 0")
        if not 0 <= self.tpe_from < self.tpe_full:
            raise ValueError(f"PriorSchedule.tpe_from={self.tpe_from}, tpe_full={self.tpe_full}: "
                             "need 0 <= tpe_from < tpe_full")

    def probabilities(self, n_finished: int, has_incumbent: bool = True, trust: float = 1.0) -> dict[str, float]:
        """The probability of each mode (keys `MODES`) for a trial started after `n_finished` results."""
        ramp = (n_finished - self.tpe_from) / (self.tpe_full - self.tpe_from)
        tpe = self.tpe_max * min(1.0, max(0.0, ramp))
        rest = 1.0 - tpe
        uniform = rest * self.uniform
        inc = rest * (1 - self.uniform) * n_finished / (n_finished + self.incumbent_halfway) if has_incumbent else 0.0
        prior = rest - uniform - inc
        moved = prior * (1.0 - trust)
        if has_incumbent:
            inc += moved
        else:
            uniform += moved
        return {"prior": prior - moved, "incumbent": inc, "uniform": uniform, "tpe": tpe}


@dataclass(frozen=True)
class _Plan:
    mode: str
    anchor: Mapping[str, Any]  # the configuration a prior/incumbent draw is centred on


class PriorSampler(BaseSampler):
    """Draws around warm-start configurations, then the incumbent, then hands over to TPE.

    Args:
        priors: one or more warm-start configurations (parameter name -> value); each prior-mode
            trial centres on one of them, chosen uniformly.
        seed: seeds every draw (and the TPE sampler).
        schedule: the mode mixture (see `PriorSchedule`).
        spread: sd of prior draws, as a fraction of the (log-)normalised range.
        categorical_mass: probability a prior draw keeps the warm start's categorical value.
        mutation_spread, mutation_keep: the same two for draws around the incumbent.
        top_fraction: the share of finished trials (best first) the prior's `trust` is judged on.

    Example:
        >>> sampler = PriorSampler([{"lr": 1e-3, "optimizer": "adam"}], seed=0)
        >>> study = optuna.create_study(direction="maximize", sampler=sampler)
    """

    def __init__(self, priors: Sequence[Mapping[str, Any]], *, seed: int = 0, schedule: PriorSchedule | None = None,
                 spread: float = 0.15, categorical_mass: float = 0.6, mutation_spread: float = 0.12,
                 mutation_keep: float = 0.7, top_fraction: float = 0.25) -> None:
        if not priors:
            raise ValueError("PriorSampler needs at least one prior configuration (got none)")
        for name, v in (("spread", spread), ("mutation_spread", mutation_spread)):
            if not v > 0:
                raise ValueError(f"PriorSampler {name}={v!r}: must be > 0")
        for name, v in (("categorical_mass", categorical_mass), ("mutation_keep", mutation_keep)):
            if not 0 <= v <= 1:
                raise ValueError(f"PriorSampler {name}={v!r}: must be in [0, 1]")
        self.priors = [dict(p) for p in priors]
        self.seed = seed
        self.schedule = schedule or PriorSchedule()
        self.spread, self.categorical_mass = spread, categorical_mass
        self.mutation_spread, self.mutation_keep = mutation_spread, mutation_keep
        self.top_fraction = top_fraction
        # one read of the study per trial, a bounded history: flat cost as the study grows (study_snapshot.py)
        self._tpe = SnapshotSampler(TPESampler(seed=seed, n_startup_trials=0, multivariate=True, group=True,
                                               constant_liar=True))
        self._plans: dict[int, _Plan] = {}  # kept after the trial ends: `mode_of` answers for every trial
        self._study_name: str | None = None

    # -- the per-trial plan
    def mode_of(self, trial_number: int) -> str | None:
        """The mode chosen for a trial this sampler has started (None if it has not)."""
        plan = self._plans.get(trial_number)
        return plan.mode if plan else None

    def _plan(self, study: Study, trial: FrozenTrial) -> _Plan:
        if study.study_name != self._study_name:  # plans are per study (keyed by trial number)
            self._plans, self._study_name = {}, study.study_name
        if trial.number not in self._plans:
            finished = ranked(study.get_trials(deepcopy=False, states=FINISHED), study.direction)
            best = finished[0] if finished else None
            top = finished[:math.ceil(self.top_fraction * len(finished))]
            probs = self.schedule.probabilities(len(finished), best is not None, self.trust(top))
            rng = self._rng(trial.number, "__mode__")
            mode = str(rng.choice(MODES, p=[probs[m] for m in MODES]))
            anchor: Mapping[str, Any] = {}
            if mode == "prior":
                anchor = self.priors[int(rng.integers(len(self.priors)))]
            elif mode == "incumbent" and best is not None:
                anchor = best.params
            self._plans[trial.number] = _Plan(mode, anchor)
        return self._plans[trial.number]

    def trust(self, top: Sequence[FrozenTrial]) -> float:
        """How well the priors explain the best trials: sigmoid of the mean log density ratio, prior over
        uniform, of their parameters (per trial the best-fitting prior); 1 when there are none."""
        if not top:
            return 1.0
        ratio = statistics.fmean(max(self._log_ratio(t, p) for p in self.priors) for t in top)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, ratio))))

    def _log_ratio(self, trial: FrozenTrial, prior: Mapping[str, Any]) -> float:
        total = 0.0
        for name, value in trial.params.items():
            dist = trial.distributions[name]
            if not _valid(dist, prior.get(name)):
                continue  # the prior is uniform there
            if isinstance(dist, CategoricalDistribution):
                k, keep = len(dist.choices), self.categorical_mass
                total += math.log((keep if value == prior[name] else 0.0) * k + (1 - keep))
            elif isinstance(dist, (FloatDistribution, IntDistribution)):  # always, once `_valid`
                lo, hi = _bounds(dist)
                z = (_forward(dist, value) - _forward(dist, prior[name])) / (hi - lo) / self.spread
                total += -0.5 * z * z - math.log(self.spread * math.sqrt(2 * math.pi))
        return total

    def _rng(self, trial_number: int, key: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, trial_number, zlib.crc32(key.encode())])

    # -- BaseSampler
    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._tpe.before_trial(study, trial)
        self._plan(study, trial)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        if self._plan(study, trial).mode != "tpe":
            return {}
        return self._tpe.infer_relative_search_space(study, trial)

    def sample_relative(self, study: Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        if not search_space or self._plan(study, trial).mode != "tpe":
            return {}
        return self._tpe.sample_relative(study, trial, search_space)

    def sample_independent(self, study: Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        plan = self._plan(study, trial)
        if plan.mode == "tpe":
            return self._tpe.sample_independent(study, trial, param_name, param_distribution)
        rng = self._rng(trial.number, param_name)
        centre = plan.anchor.get(param_name)
        if plan.mode == "uniform" or not _valid(param_distribution, centre):
            return draw_around(param_distribution, None, rng, 1.0, 0.0)
        if plan.mode == "incumbent":
            return draw_around(param_distribution, centre, rng, self.mutation_spread, self.mutation_keep)
        return draw_around(param_distribution, centre, rng, self.spread, self.categorical_mass)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._tpe.after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        self._tpe.reseed_rng()


def ranked(trials: Sequence[FrozenTrial], direction: StudyDirection) -> list[FrozenTrial]:
    """Best first, as TPE ranks them: COMPLETE by value, then PRUNED by the step reached and the value
    there; trials with no value at all, or that broke a constraint (search.constraints), are left out."""
    sign = 1.0 if direction == StudyDirection.MAXIMIZE else -1.0

    def key(t: FrozenTrial) -> tuple[int, float, float]:
        if t.state == TrialState.COMPLETE:
            assert t.value is not None  # `scored` below keeps only COMPLETE trials that have a value
            return 1, 0.0, sign * t.value
        step = max(t.intermediate_values)
        return 0, step, sign * t.intermediate_values[step]

    scored = [t for t in trials if ((t.state == TrialState.COMPLETE and t.value is not None)
              or (t.state == TrialState.PRUNED and t.intermediate_values))
              and all(v <= 0 for v in t.constraints.values())]
    return sorted(scored, key=key, reverse=True)


def draw_around(dist: BaseDistribution, centre: Any, rng: np.random.Generator, spread: float, keep: float) -> Any:
    """One value of `dist`: uniform when `centre` is None, else centred on it (see `PriorSampler`)."""
    if isinstance(dist, CategoricalDistribution):
        if centre is not None and rng.random() < keep:
            return centre
        return dist.choices[int(rng.integers(len(dist.choices)))]
    if not isinstance(dist, (FloatDistribution, IntDistribution)):
        raise TypeError(f"PriorSampler cannot draw a {type(dist).__name__}")
    lo, hi = _bounds(dist)
    if centre is None:
        u = rng.random()
    else:  # truncated normal in the normalised range, by rejection (the mass inside is >= ~50%)
        c = (_forward(dist, centre) - lo) / (hi - lo)
        u = next((x for x in rng.normal(c, spread, size=64) if 0.0 <= x <= 1.0), min(1.0, max(0.0, c)))
    return _snap(dist, _backward(dist, lo + u * (hi - lo)))


def _valid(dist: BaseDistribution, value: Any) -> bool:
    if value is None:
        return False
    if isinstance(dist, CategoricalDistribution):
        return value in dist.choices
    if not isinstance(dist, (FloatDistribution, IntDistribution)):
        return False  # no prior on a distribution PriorSampler cannot draw: uniform there
    return isinstance(value, (int, float)) and not isinstance(value, bool) and dist.low <= value <= dist.high


def _bounds(dist: FloatDistribution | IntDistribution) -> tuple[float, float]:
    # ints and stepped floats get half a step either side, so every grid value is equally likely
    half = 0.5 * dist.step if dist.step is not None else 0.0
    return _forward(dist, dist.low - half), _forward(dist, dist.high + half)


def _forward(dist: FloatDistribution | IntDistribution, v: float) -> float:
    return math.log(v) if dist.log else float(v)


def _backward(dist: FloatDistribution | IntDistribution, v: float) -> float:
    return math.exp(v) if dist.log else v


def _snap(dist: FloatDistribution | IntDistribution, v: float) -> Any:
    v = min(dist.high, max(dist.low, v))
    if dist.step is not None:
        v = dist.low + round((v - dist.low) / dist.step) * dist.step
        v = min(dist.high, max(dist.low, v))
    return int(round(v)) if isinstance(dist, IntDistribution) else float(v)


def prior_sampler_for(space: Any, seed: int, **kwargs: Any) -> PriorSampler:
    """A `PriorSampler` whose priors are `space`'s warm-start configurations (constants left out)."""
    from spaces import Constant

    consts = {p.name for p in space.params if isinstance(p, Constant)}
    priors = [{k: v for k, v in point.items() if k not in consts} for point in space.warm_start]
    return PriorSampler(priors, seed=seed, **kwargs)

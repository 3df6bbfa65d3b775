"""Where the Optuna searcher (TPE through Ray Tune's OptunaSearch) is built."""
from __future__ import annotations

from typing import Any

from ray.tune.search.optuna import OptunaSearch

from spaces import Constant, Space, define_by_run

from .config import ExperimentConfig

SEED_KEY = "seed"


class TrialAwareOptunaSearch(OptunaSearch):
    """OptunaSearch that tells Optuna the truth about how a trial ended.

    Ray's OptunaSearch reports an errored trial with a last result as COMPLETE with that value;
    an errored trial here is FAILED, and a diverged trial (NaN/inf loss) too, never a score.
    """

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        if trial_id not in self._ot_trials or trial_id in self._completed_trials:
            return super().on_trial_complete(trial_id, result, error)
        if error or (result and result.get("diverged")):
            import optuna

            ot_trial = self._ot_trials[trial_id]
            try:
                self._ot_study.tell(ot_trial, None, state=optuna.trial.TrialState.FAIL)
            except Exception:  # noqa: BLE001 - already finished in Optuna
                pass
            self._completed_trials.add(trial_id)
            return None
        return super().on_trial_complete(trial_id, result, error)


def startup_trials(cfg: ExperimentConfig) -> int:
    """Random trials before TPE models the space: a third of the budget, between 3 and 10."""
    if cfg.search.startup_trials is not None:
        return cfg.search.startup_trials
    return max(3, min(10, cfg.budget.num_samples // 3))


def warm_start_points(space: Space) -> list[dict[str, Any]]:
    consts = {p.name for p in space.params if isinstance(p, Constant)}
    return [{k: v for k, v in point.items() if k not in consts} for point in space.warm_start]


def build_searcher(cfg: ExperimentConfig, space: Space) -> OptunaSearch:
    """Seeded multivariate TPE over the space's define-by-run function, warm-started from the space."""
    import optuna

    sampler = optuna.samplers.TPESampler(
        seed=cfg.search.seed, n_startup_trials=startup_trials(cfg), multivariate=True, group=True,
        constant_liar=True,  # concurrent trials: avoid proposing the same point twice
    )
    # each trial's own training seed: distinct per trial, reproducible from the experiment seed
    space_fn = define_by_run(space, seed_key=SEED_KEY, seed_base=cfg.search.seed * 100_003)
    points = warm_start_points(space) if cfg.search.warm_start else None
    return TrialAwareOptunaSearch(space=space_fn, metric=cfg.search.metric, mode=cfg.mode,
                                  points_to_evaluate=points or None, sampler=sampler)

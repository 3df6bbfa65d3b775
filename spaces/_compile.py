"""Compile a `Space` into an Optuna define-by-run function (the one place spaces meet Optuna)."""
from __future__ import annotations

from typing import Any

from ._params import Categorical, Constant, FloatRange, IntRange, Param
from ._space import Space


class DefineByRun:
    """`fn(trial) -> constants`: suggests every parameter whose conditions hold, in dependency order.

    Suggested values land in `trial.params`; the returned dict holds the space's constants, plus
    `seed_key: seed_base + trial.number` when `seed_key` is set (Ray Tune merges both into the
    trial's config). A plain class, not a closure, so Ray can pickle it with the searcher state.

    Example:
        >>> fn = DefineByRun(space)  # doctest: +SKIP
        >>> study.optimize(lambda t: (fn(t), 0.0)[1], n_trials=3)  # doctest: +SKIP
    """

    def __init__(self, space: Space, seed_key: str | None = None, seed_base: int = 0) -> None:
        self.params = space.params
        self.seed_key, self.seed_base = seed_key, seed_base

    def __call__(self, trial: Any) -> dict[str, Any]:
        config: dict[str, Any] = {}
        consts: dict[str, Any] = {}
        for p in self.params:
            if not p.exists_in(config):
                continue
            if isinstance(p, Constant):
                config[p.name] = consts[p.name] = p.value
            else:
                config[p.name] = _suggest(trial, p)
        if self.seed_key:
            consts[self.seed_key] = self.seed_base + trial.number
        return consts


def define_by_run(space: Space, seed_key: str | None = None, seed_base: int = 0) -> DefineByRun:
    """Compile `space` for Optuna (see `DefineByRun`)."""
    return DefineByRun(space, seed_key, seed_base)


def _suggest(trial: Any, p: Param) -> Any:
    if isinstance(p, Categorical):
        return trial.suggest_categorical(p.name, list(p.choices))
    if isinstance(p, IntRange):
        return trial.suggest_int(p.name, p.low, p.high, step=p.step, log=p.log)
    if isinstance(p, FloatRange):
        return trial.suggest_float(p.name, p.low, p.high, step=p.step, log=p.log)
    raise TypeError(f"cannot suggest {type(p).__name__}")

"""Every report figure by name, as a matplotlib Figure for one experiment (`search.api.figure`)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..load import Experiment
from ._best_so_far import plot_best_so_far
from ._confusion import plot_confusion
from ._curves import plot_curves
from ._importance import plot_importance
from ._pareto import plot_pareto
from ._roc import plot_roc
from ._rungs import plot_rungs
from ._size import plot_size
from ._slices import plot_slices


def _ranked_ids(exp: Experiment, by: str, top: int) -> list[str]:
    from ..leaderboard import leaderboard

    board = leaderboard(exp, by=by)
    return list(board.dropna(subset=[exp.metric])["trial_id"].head(top)) if not board.empty else []


def _importance(exp: Experiment, by: str) -> Any:
    from ..importance import param_importances
    from ..layout import read_space

    space = read_space(exp.path)
    if space is None:
        raise ValueError(f"{exp.path}: no space.yaml, so no parameter importances")
    return param_importances(exp, space, by)


def _evaluation(exp: Experiment, by: str, trial: str | None) -> Any:
    """The test evaluation of `trial` (default: the best); touches the held-out test set."""
    from ..errors import ExperimentError
    from ..evaluate import evaluate_trial
    from ..experiment_data import load_experiment_data

    ids = [trial] if trial else _ranked_ids(exp, by, 1)
    if not ids:
        raise ExperimentError(f"{exp.path}: no trial has reported {exp.metric}; nothing to evaluate")
    return evaluate_trial(exp, ids[0], load_experiment_data(exp.path))


Draw = Callable[[Experiment, str, int, "str | None"], Any]
KINDS: dict[str, Draw] = {
    "best_so_far": lambda exp, by, top, trial: plot_best_so_far(exp),
    "curves": lambda exp, by, top, trial: plot_curves(exp, _ranked_ids(exp, by, top)),
    "rungs": lambda exp, by, top, trial: plot_rungs(exp),
    "importance": lambda exp, by, top, trial: plot_importance(_importance(exp, by), top),
    "slices": lambda exp, by, top, trial: plot_slices(exp, list(_importance(exp, by).index[:4]), by),
    "size": lambda exp, by, top, trial: plot_size(exp, by),
    "pareto": lambda exp, by, top, trial: plot_pareto(exp, by),  # needs search.objectives with >= 2 metrics
    "confusion": lambda exp, by, top, trial: _confusion(_evaluation(exp, by, trial)),
    "roc": lambda exp, by, top, trial: plot_roc(_evaluation(exp, by, trial).metrics.roc),
}


def _confusion(ev: Any) -> Any:
    return plot_confusion(ev.metrics.confusion, ev.class_names)


def draw_figure(exp: Experiment, kind: str, by: str = "best", top: int = 5, trial: str | None = None) -> Any:
    """The figure `kind` (one of KINDS) of `exp`; confusion and roc evaluate `trial` (or the best) on the test set."""
    if kind not in KINDS:
        raise ValueError(f"figure {kind!r}: one of {list(KINDS)}")
    return KINDS[kind](exp, by, top, trial)

"""Which scored trial `hpsearch final` retrains: a small registry of rules, chosen as `--pick RULE[:ARG]`.

    best                 the top of the leaderboard (the default)
    smallest-within:P    the fewest parameters among the trials within P points of the best
    fastest-within:P     the lowest inference_ms among the trials within P points of the best

A point is a hundredth of the primary metric (0.5 points of val_acc = 0.005 accuracy; of val_loss,
0.005 loss). Ties go to the better-ranked trial.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from .errors import ExperimentError


@dataclass(frozen=True)
class PickRule:
    choose: Callable[[pd.DataFrame, str, float], str]  # (ranked trials, best first; metric; points) -> trial id
    takes_points: bool
    help: str


def _best(ranked: pd.DataFrame, metric: str, points: float) -> str:
    return str(ranked.iloc[0]["trial_id"])


def _least_within(column: str) -> Callable[[pd.DataFrame, str, float], str]:
    def choose(ranked: pd.DataFrame, metric: str, points: float) -> str:
        best = float(ranked.iloc[0][metric])
        near = ranked[(ranked[metric] - best).abs() <= points / 100 + 1e-12].dropna(subset=[column])
        if near.empty:  # no trial measured the cost: the best is all there is to go on
            return _best(ranked, metric, points)
        return str(near.sort_values([column, "rank"], kind="stable").iloc[0]["trial_id"])
    return choose


PICK_RULES: dict[str, PickRule] = {}


def register_pick_rule(name: str, rule: PickRule) -> None:
    if name in PICK_RULES:
        raise ValueError(f"pick rule {name!r} is already registered")
    PICK_RULES[name] = rule


register_pick_rule("best", PickRule(_best, False, "the best-ranked trial"))
register_pick_rule("smallest-within", PickRule(_least_within("param_count"), True,
                                               "fewest parameters within P points of the best"))
register_pick_rule("fastest-within", PickRule(_least_within("inference_ms"), True,
                                              "lowest inference_ms within P points of the best"))

_FORMS = ", ".join(f"{n}:P" if r.takes_points else n for n, r in PICK_RULES.items())


def parse_pick(text: str) -> tuple[PickRule, float]:
    """`NAME` or `NAME:P` -> (rule, points); ExperimentError names what is allowed."""
    name, _, arg = text.partition(":")
    rule = PICK_RULES.get(name)
    if rule is None or bool(arg) != rule.takes_points:
        raise ExperimentError(f"--pick {text!r}: one of {_FORMS} (P: points of the metric, e.g. smallest-within:0.5)")
    try:
        points = float(arg) if arg else 0.0
    except ValueError:
        points = math.nan
    if not (math.isfinite(points) and points >= 0):
        raise ExperimentError(f"--pick {text!r}: P must be a number of points >= 0, e.g. {name}:0.5")
    return rule, points


def pick_trial(ranked: pd.DataFrame, metric: str, text: str = "best") -> str:
    """The trial id `text`'s rule chooses among `ranked` (leaderboard rows with a score, best first)."""
    rule, points = parse_pick(text)
    return rule.choose(ranked, metric, points)

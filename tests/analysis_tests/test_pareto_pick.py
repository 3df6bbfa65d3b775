"""The Pareto mask against a pairwise definition, and the `final --pick` rules on a small leaderboard."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import ExperimentError
from analysis.objectives import Objective, parse_objectives
from analysis.pareto import pareto_mask
from analysis.pick import PICK_RULES, parse_pick, pick_trial


def _pairwise_front(values: np.ndarray, modes: list[str]) -> np.ndarray:
    sign = np.array([1.0 if m == "max" else -1.0 for m in modes])
    gain = values * sign  # all maximised

    def dominates(a: np.ndarray, b: np.ndarray) -> bool:
        return bool(np.all(a >= b) and np.any(a > b))

    return np.array([not np.isnan(g).any() and not any(dominates(h, g) for j, h in enumerate(gain)
                                                        if j != i and not np.isnan(h).any())
                     for i, g in enumerate(gain)])


@pytest.mark.parametrize("modes", [["max", "min"], ["max", "min", "min"], ["min", "min"]])
def test_pareto_mask_equals_the_pairwise_definition(modes):
    rng = np.random.default_rng(len(modes))
    values = rng.integers(0, 6, size=(40, len(modes))).astype(float)  # small integers: many ties
    values[[3, 17]] = np.nan
    mask = pareto_mask(values, modes)
    assert mask.tolist() == _pairwise_front(values, modes).tolist() and mask.any() and not mask[[3, 17]].any()


def test_short_and_long_objective_forms_agree():
    assert parse_objectives(["val_acc", "inference_ms"]) == parse_objectives(
        [{"metric": "val_acc", "mode": "max"}, {"metric": "inference_ms"}]) == [
        Objective("val_acc", "max"), Objective("inference_ms", "min")]


RANKED = pd.DataFrame({"rank": [1, 2, 3, 4, 5], "trial_id": ["a", "b", "c", "d", "e"],
                       "val_acc": [0.910, 0.908, 0.905, 0.904, 0.80],
                       "param_count": [900_000, 40_000, 40_000, 10_000, 1_000],
                       "inference_ms": [1.0, 0.5, 0.2, np.nan, 0.01]})


@pytest.mark.parametrize("rule, expected", [
    ("best", "a"),
    ("smallest-within:0.5", "b"),     # d is 0.6 points behind; b and c tie on size: the better-ranked
    ("smallest-within:0.6", "d"),
    ("smallest-within:0", "a"),
    ("fastest-within:0.5", "c"),
    ("fastest-within:20", "e"),       # d never measured inference_ms: not a candidate
])
def test_pick_rules(rule, expected):
    assert pick_trial(RANKED, "val_acc", rule) == expected


def test_every_rule_is_documented_and_bad_rules_say_what_is_allowed():
    assert set(PICK_RULES) == {"best", "smallest-within", "fastest-within"}
    assert all(r.help for r in PICK_RULES.values())
    for bad in ("best:1", "smallest-within", "smallest-within:x", "smallest-within:nan", "largest"):
        with pytest.raises(ExperimentError, match="--pick"):
            parse_pick(bad)

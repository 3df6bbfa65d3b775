"""Paired statistics of the search benchmarks, checked against hand-computed cases."""
from __future__ import annotations

import math

import pytest

from benchmarks._paired import bootstrap_median_ci, compare, paired_differences, sign_test_p, wilcoxon_p


def test_only_seeds_both_methods_ran_are_paired() -> None:
    assert paired_differences({0: 0.9, 1: 0.8, 2: 0.7}, {1: 0.5, 2: 0.75, 3: 0.1}) == pytest.approx({1: 0.3, 2: -0.05})


def test_five_wins_of_five_give_the_exact_two_sided_p_values() -> None:
    diffs = [0.004, 0.006, 0.005, 0.007, 0.003]
    assert sign_test_p(diffs) == pytest.approx(2 / 32)          # 2 * 0.5**5
    assert wilcoxon_p(diffs) == pytest.approx(2 / 32)           # all ranks on one side
    assert sign_test_p([0.0, 0.0]) == 1.0 and wilcoxon_p([0.0]) is None


def test_bootstrap_interval_holds_the_median_and_stays_inside_the_data() -> None:
    diffs = [0.002, 0.004, 0.005, 0.006, 0.009, 0.011, 0.003]
    low, high = bootstrap_median_ci(diffs)
    assert min(diffs) <= low <= 0.005 <= high <= max(diffs)
    assert bootstrap_median_ci([0.01] * 5) == (0.01, 0.01)
    with pytest.raises(ValueError):
        bootstrap_median_ci([])


def test_compare_reports_a_clear_win_with_an_interval_above_zero() -> None:
    a = {s: 0.93 + 0.001 * s for s in range(5)}
    b = {s: 0.92 + 0.0015 * s for s in range(5)}
    c = compare(a, b)
    assert c["seeds"] == [0, 1, 2, 3, 4] and c["wins"] == 5 and c["losses"] == 0
    assert c["median_difference"] == pytest.approx(0.009) and 0 < c["ci_low"] <= c["ci_high"]
    assert math.isclose(c["wilcoxon_p"], 0.0625)

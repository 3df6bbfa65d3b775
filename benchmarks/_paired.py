"""Paired comparisons of two methods run on the same seeds: median difference, bootstrap interval, tests.

A seed fixes the data order and the sampler, so method A and method B on seed s form a pair; comparing
pairs removes the seed-to-seed spread that an unpaired comparison of two medians would carry.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats


def paired_differences(a: dict[int, float], b: dict[int, float]) -> dict[int, float]:
    """a[s] - b[s] for every seed both have (a seed one method lacks cannot be paired)."""
    return {s: a[s] - b[s] for s in sorted(set(a) & set(b))}


def bootstrap_median_ci(diffs: Sequence[float], level: float = 0.95, resamples: int = 10_000,
                        seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the median of `diffs` (resampling seeds with replacement)."""
    d = np.asarray(diffs, dtype=float)
    if d.size == 0:
        raise ValueError("no paired differences to bootstrap")
    rng = np.random.default_rng(seed)
    medians = np.median(rng.choice(d, size=(resamples, d.size), replace=True), axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(medians, tail)), float(np.quantile(medians, 1 - tail))


def sign_test_p(diffs: Sequence[float]) -> float:
    """Two-sided exact sign test: how often a fair coin gives a split at least this lopsided (ties dropped)."""
    d = [x for x in diffs if x != 0]
    if not d:
        return 1.0
    wins = sum(x > 0 for x in d)
    return float(stats.binomtest(wins, len(d), 0.5).pvalue)


def wilcoxon_p(diffs: Sequence[float]) -> float | None:
    """Two-sided exact Wilcoxon signed-rank p-value, or None when every difference is zero."""
    d = [x for x in diffs if x != 0]
    if not d:
        return None
    return float(stats.wilcoxon(d, alternative="two-sided", method="exact").pvalue)


def compare(a: dict[int, float], b: dict[int, float], level: float = 0.95) -> dict[str, Any]:
    """Everything a benchmark table says about `a - b` on paired seeds."""
    diffs = paired_differences(a, b)
    values = list(diffs.values())
    low, high = bootstrap_median_ci(values, level) if values else (float("nan"), float("nan"))
    return {
        "seeds": list(diffs), "differences": values,
        "median_difference": float(np.median(values)) if values else float("nan"),
        "ci_level": level, "ci_low": low, "ci_high": high,
        "wins": sum(v > 0 for v in values), "losses": sum(v < 0 for v in values),
        "sign_test_p": sign_test_p(values), "wilcoxon_p": wilcoxon_p(values),
    }

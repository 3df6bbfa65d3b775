"""The one-factor grid of the real-compute benchmark, as a space file hpsearch can run under a time budget.

The hand-tuning notebooks move one knob at a time from a starting point. Here: the preset's first warm start,
then every searched knob moved alone to its neighbouring values (the adjacent choices of a categorical, +-1
of an int, x3 and /3 of a log-scaled float, +-a quarter of the range of a linear one; clipped to the space,
values equal to the start skipped), in the preset's order. hpsearch evaluates them in that order as its
warm starts, over the same stage ladder, and trains the best at the top stage (`search.prior_margin: 0`:
a grid has no prior to keep). What no time is left for is not tried, as in a notebook run out of time.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from spaces import Categorical, FloatRange, IntRange, Param, Space, get_preset, preset_path


def neighbours(p: Param, value: Any) -> list[Any]:
    """The values one step either side of `value` that `p` can take (none for a constant)."""
    if isinstance(p, Categorical):
        i = p.choices.index(value)
        return [p.choices[j] for j in (i - 1, i + 1) if 0 <= j < len(p.choices)]
    if isinstance(p, IntRange):
        out = [value - p.step, value + p.step]
    elif isinstance(p, FloatRange):
        out = [value / 3, value * 3] if p.log else [value - (p.high - p.low) / 4, value + (p.high - p.low) / 4]
        out = [float(min(p.high, max(p.low, v))) for v in out]
    else:
        return []
    return [v for v in out if p.can_take(v) and not math.isclose(v, value)]


def one_factor_points(space: Space) -> list[dict[str, Any]]:
    """The start (the first warm start), then each knob moved alone to each neighbour."""
    start = dict(space.warm_start[0])
    points = [start]
    for p in space.params:
        if p.name in start:
            points += [{**start, p.name: v} for v in neighbours(p, start[p.name])]
    return points


def write_one_factor_space(preset: str, folder: Path) -> Path:
    """A copy of the preset's space file whose warm starts are its one-factor grid; returns its path."""
    data = yaml.safe_load(preset_path(preset).read_text())
    data["name"] = f"{preset}_one_factor"
    data["warm_start"] = one_factor_points(get_preset(preset))
    path = folder / f"{preset}_one_factor.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path

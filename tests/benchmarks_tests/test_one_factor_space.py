"""The real-compute benchmark's one-factor grid: the preset's recipe, then each knob moved alone to its
neighbouring values, written as a space file hpsearch loads (its warm starts are the grid)."""
from __future__ import annotations

from pathlib import Path

from benchmarks._one_factor_space import neighbours, one_factor_points, write_one_factor_space
from spaces import Categorical, FloatRange, IntRange, get_preset, load_space


def test_neighbours_stay_inside_each_kind_of_parameter() -> None:
    assert neighbours(Categorical("b", choices=(64, 128, 256)), 64) == [128]
    assert neighbours(IntRange("s", low=2, high=4), 3) == [2, 4]
    assert neighbours(FloatRange("lr", low=1e-3, high=3e-2, log=True), 1e-2) == [1e-2 / 3, 3e-2]
    assert neighbours(FloatRange("ls", low=0.0, high=0.2), 0.0) == [0.05]  # 0 - 0.05 clips to 0: the start


def test_the_grid_moves_one_knob_at_a_time_and_loads_as_a_space(tmp_path: Path) -> None:
    space = get_preset("resnet_cpu")
    points = one_factor_points(space)
    start = points[0]
    assert start == space.warm_start[0] and len(points) == len({str(sorted(p.items())) for p in points})
    moved = [[k for k in start if p[k] != start[k]] for p in points[1:]]
    assert all(len(m) == 1 for m in moved)
    assert {m[0] for m in moved} == set(start)  # every searched knob of the recipe is moved
    loaded = load_space(write_one_factor_space("resnet_cpu", tmp_path))
    assert [dict(p) for p in loaded.warm_start] == points

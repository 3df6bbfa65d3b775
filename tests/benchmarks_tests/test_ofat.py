"""The one-factor-at-a-time baseline of the search-efficiency benchmark proposes valid, distinct configs."""
from __future__ import annotations

import pytest

from benchmarks._ofat import FACTORS, stage_configs
from spaces import Constant, get_preset, list_presets

PRESETS = [name for name in list_presets() if get_preset(name).warm_start]


def start(name: str) -> dict:
    space = get_preset(name)
    return {**{p.name: p.value for p in space.params if isinstance(p, Constant)}, **space.warm_start[0], "seed": 0}


def test_stages_follow_the_hand_tuning_notebooks() -> None:
    assert list(FACTORS) == ["filters", "dropout", "optimizer", "lr", "batch_size"]


@pytest.mark.parametrize("name", PRESETS)
@pytest.mark.parametrize("factor", list(FACTORS))
def test_every_stage_config_is_a_valid_new_point_of_the_space(name: str, factor: str) -> None:
    space, best = get_preset(name), start(name)
    configs = stage_configs(space, factor, best)  # raises SpaceError on an invalid point
    assert best not in configs and len({str(sorted(c.items())) for c in configs}) == len(configs)
    for cfg in configs:
        assert cfg["seed"] == 0 and set(space.existing(cfg)) == set(cfg) - {"seed"}
        assert {k for k in cfg if cfg.get(k) != best.get(k)}, "each config changes something"


def test_cnn_stages_change_only_their_factor() -> None:
    space, best = get_preset("cnn"), start("cnn")
    assert {c["optimizer"] for c in stage_configs(space, "optimizer", best)} == {"adamw", "nadam", "rmsprop", "sgd"}
    assert all(c["momentum"] == 0.9 for c in stage_configs(space, "optimizer", best) if c["optimizer"] == "sgd")
    assert sorted(c["lr"] for c in stage_configs(space, "lr", best)) == [1e-4, 1e-3, 3e-3, 1e-2]
    two_blocks = [c for c in stage_configs(space, "filters", best) if c["conv_blocks"] == 2]
    assert two_blocks and "filters_3" not in two_blocks[0] and "block_dropout_3" not in two_blocks[0]
    for c in stage_configs(space, "batch_size", best):
        assert {k for k in c if c[k] != best.get(k)} == {"batch_size"}

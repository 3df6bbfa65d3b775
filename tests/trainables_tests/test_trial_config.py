"""The typed trial config: KNOBS is the one table of types, ranges and defaults, and `parse_trial_config`
is the one boundary from a flat dict (unknown keys and bad values rejected, absent knobs defaulted)."""
from __future__ import annotations

import re
from dataclasses import fields, is_dataclass
from pathlib import Path

import numpy as np
import pytest

from spaces import get_preset, list_presets
from trainables.knobs import AUG_PREFIX, KNOBS, DependsOn, max_blocks
from trainables.models import MODELS
from trainables.trial_config import TrialConfig, TrialConfigError, parse_trial_config

ROOT = Path(__file__).resolve().parents[2]


def _typed_fields() -> set[str]:
    """Every knob name a typed field holds: top-level fields, each sub-config's fields, and the knobs
    that select a sub-config (its `name` field)."""
    cfg = parse_trial_config({})
    subs = [cfg.optimizer, cfg.loss, cfg.schedule] + [MODELS.get(n).config for n in MODELS.names()]
    top = {f.name for f in fields(TrialConfig)} - {"model", "optimizer", "loss", "schedule", "augment", "seed"}
    selectors = {"family", "optimizer", "loss", "schedule"}
    # `sampled` of a family taking the user's own parameters (custom) holds the trial's values, not a knob
    return top | selectors | {f.name for s in subs for f in fields(s) if f.name not in ("name", "sampled")}


def test_every_knob_has_a_typed_field_and_every_field_a_knob() -> None:
    knobs = {k for k in KNOBS if not k.startswith(AUG_PREFIX)}
    assert _typed_fields() == knobs


@pytest.mark.parametrize("name", sorted(KNOBS))
def test_every_default_is_allowed_by_its_own_knob(name: str) -> None:
    knob = KNOBS[name]
    if isinstance(knob.default, DependsOn):
        defaults = [*knob.default.values.values(), knob.default.otherwise]
        assert knob.default.knob in KNOBS and not isinstance(KNOBS[knob.default.knob].default, DependsOn)
    elif knob.per_block:
        defaults = [knob.default_at(i) for i in range(1, max_blocks(knob) + 1)]
    else:
        defaults = [knob.default]
    assert all(knob.problem(d) is None for d in defaults), (name, defaults)


def test_defaults_alone_give_the_documented_trial() -> None:
    cfg = parse_trial_config({})
    assert cfg.family == "cnn" and cfg.model.filters == (32, 64, 128) and cfg.model.block_dropout == (0.0,) * 3
    assert (cfg.optimizer.name, cfg.optimizer.lr, cfg.loss.name, cfg.schedule.name) == ("adam", 1e-3, "cross_entropy",
                                                                                      "none")
    assert (cfg.batch_size, cfg.l1, cfg.patience, cfg.seed, cfg.augment) == (128, 0.0, 0, None, ())


@pytest.mark.parametrize("flat, field, expected", [
    ({"family": "cnn"}, lambda c: c.model.batch_norm, True),     # the cnn preset's hand-tuned CNN
    ({"family": "mlp"}, lambda c: c.model.batch_norm, False),    # the mlp preset's dense baseline
    ({"schedule": "step"}, lambda c: c.schedule.lr_gamma, 0.5),  # a factor per drop (the lenet5 preset)
    ({"schedule": "exponential"}, lambda c: c.schedule.lr_gamma, 0.9),  # a factor per epoch
    ({"family": "timm"}, lambda c: c.model.finetune, "linear_probe"),
    ({"family": "timm", "pretrained": False}, lambda c: c.model.finetune, "full"),
    ({"family": "timm", "pretrained": False, "finetune": "last_k"}, lambda c: c.model.finetune, "last_k"),
])
def test_defaults_that_depend_on_another_knob(flat, field, expected) -> None:
    assert field(parse_trial_config(flat)) == expected


def test_per_block_knobs_become_one_tuple_entry_per_block() -> None:
    cfg = parse_trial_config({"conv_blocks": 4, "filters_2": 16, "block_dropout_4": 0.25, "filters_7": 8})
    assert cfg.model.filters == (32, 16, 128, 256)           # filters_7: a block that does not exist, unused
    assert cfg.model.block_dropout == (0.0, 0.0, 0.0, 0.25)
    mlp = parse_trial_config({"family": "mlp", "mlp_layers": 1, "mlp_units_1": 64, "mlp_dropout_1": 0.5})
    assert (mlp.model.mlp_units, mlp.model.mlp_dropout) == ((64,), (0.5,))


@pytest.mark.parametrize("flat, message", [
    ({"lr_gama": 0.5}, "lr_gama = 0.5: not a knob the trainable understands; did you mean 'lr_gamma'"),
    ({"mlp_units_0": 16}, r"mlp_units_0 = 16: mlp_units has blocks 1 to 16 \(one per mlp_layers\)"),
    ({"filters_9": 16}, r"filters_9 = 16: filters has blocks 1 to 8 \(one per conv_blocks\)"),
    ({"filters": 16}, r"filters = 16: filters is set per block, as filters_1, filters_2, ... \(one per conv_blocks\)"),
    ({"lr": 0.0}, r"lr = 0.0: 0.0 is outside the allowed range \(0, inf\] \(learning rate\)"),
    ({"batch_size": 32.0}, r"batch_size = 32.0: 32.0 is not int; allowed: \[1, inf\]"),
    ({"optimizer": "lion"}, r"optimizer = 'lion': 'lion' is not a registered name; registered: \['adadelta'"),
    ({"pool": "min"}, r"pool = 'min': 'min' is not one of \['max', 'avg'\]"),
    ({"backbone": "resnet_nope"}, "backbone = 'resnet_nope': 'resnet_nope' is not a timm model name"),
    ({"seed": "7"}, r"seed = '7': not an int \(the trial's random seed\)"),
])
def test_bad_keys_and_values_are_rejected_precisely(flat, message) -> None:
    with pytest.raises(TrialConfigError, match=message):
        parse_trial_config(flat)


def test_augmentations_apply_in_registry_order_whatever_the_key_order() -> None:
    flat = {"aug_zoom": 0.1, "aug_crop": 2, "aug_hflip": 0.0, "aug_erase": 0.25}
    assert parse_trial_config(flat).augment == (("crop", 2.0), ("erase", 0.25), ("zoom", 0.1))
    assert parse_trial_config(dict(reversed(flat.items()))).augment == parse_trial_config(flat).augment


def test_numpy_scalars_from_a_results_table_become_python_values() -> None:
    cfg = parse_trial_config({"conv_blocks": np.int64(2), "lr": np.float64(0.01), "batch_norm": np.bool_(False),
                              "aug_crop": np.int64(2), "seed": np.int64(3)})
    assert cfg.model.conv_blocks == 2 and type(cfg.model.conv_blocks) is int and cfg.model.batch_norm is False
    assert cfg.augment == (("crop", 2.0),) and type(cfg.augment[0][1]) is float and cfg.seed == 3


def test_typed_config_is_frozen() -> None:
    cfg = parse_trial_config({})
    with pytest.raises(AttributeError):
        cfg.batch_size = 1  # type: ignore[misc]
    with pytest.raises(AttributeError):
        cfg.model.filters = (1,)  # type: ignore[misc]
    assert is_dataclass(cfg.model) and hash(cfg) == hash(parse_trial_config({}))


@pytest.mark.parametrize("preset", list_presets())
def test_preset_warm_starts_parse(preset: str) -> None:
    space = get_preset(preset)
    consts = {p.name: p.value for p in space.params if hasattr(p, "value")}
    for point in space.warm_start:
        cfg = parse_trial_config({**consts, **point})
        assert cfg.family == point.get("family", consts.get("family"))


def test_no_trial_config_is_read_with_get_outside_the_boundary() -> None:
    """Every knob is read as a typed field; `.get(key, default)` on a trial config would be a second default."""
    pattern = re.compile(r"\b(config|cfg|c|flat)\.get\(|\b(config|cfg)\[\"")
    hits = [f"{path.relative_to(ROOT)}:{i}: {line.strip()}"
            for path in sorted((ROOT / "trainables").rglob("*.py")) if path.name != "trial_config.py"
            for i, line in enumerate(path.read_text().splitlines(), 1) if pattern.search(line)]
    assert hits == []

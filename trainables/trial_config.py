"""The typed trial configuration, and the one boundary where Ray's flat dict becomes it.

A trial's config arrives flat, as the search space names it (`{"family": "cnn", "filters_2": 64,
"lr": 4e-4, ...}`). `parse_trial_config` checks every key against `knobs.KNOBS` (an unknown key or a
value out of range is an error naming the key, the value and what is allowed), fills every knob it
leaves out with its default from that table, and returns frozen dataclasses grouped by concern:
the model family's knobs (`MLPConfig`, `CNNConfig`, ...), the optimizer's, the loss's, the
schedule's, and the few the training loop reads itself. Everything downstream reads typed fields.
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .knobs import AUG_PREFIX, KNOBS, PER_BLOCK, RESERVED, DependsOn, max_blocks, split_param
from .losses import LossConfig
from .models import MODELS
from .optimizers import OptimizerConfig
from .schedules import ScheduleConfig


class TrialConfigError(ValueError):
    """A trial's flat config has a key the trainable does not understand, or a value it cannot take."""


@dataclass(frozen=True)
class TrialConfig:
    """One trial's configuration, every knob typed and resolved (field names are knob names)."""

    model: Any                              # the family's config: MLPConfig, CNNConfig, LeNetConfig, TimmConfig, ...
    optimizer: OptimizerConfig
    loss: LossConfig
    schedule: ScheduleConfig
    augment: tuple[tuple[str, float], ...]  # (name, strength) of each augmentation switched on, in registry order
    batch_size: int
    l1: float
    patience: int                           # early stopping after this many epochs without improvement; 0 = off
    seed: int | None                        # set per trial by the search; None: the experiment's seed

    @property
    def family(self) -> str:
        return self.model.name


def parse_trial_config(flat: Mapping[str, Any]) -> TrialConfig:
    """The typed config of a flat trial config: checked against KNOBS, every absent knob at its default.

    Example:
        >>> parse_trial_config({"family": "mlp", "mlp_layers": 1, "mlp_units_1": 64}).model.mlp_units
        (64,)
    """
    given, blocks, seed = _checked(flat)
    values = _resolved(given, blocks)
    return TrialConfig(
        model=_model(values, flat),
        optimizer=_sub(OptimizerConfig, values, "optimizer"),
        loss=_sub(LossConfig, values, "loss"),
        schedule=_sub(ScheduleConfig, values, "schedule"),
        augment=tuple((k.removeprefix(AUG_PREFIX), values[k]) for k in KNOBS  # KNOBS order: the registry's
                      if k.startswith(AUG_PREFIX) and values[k] > 0),
        batch_size=values["batch_size"], l1=values["l1"], patience=values["patience"], seed=seed)


def _checked(flat: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[int, Any]], int | None]:
    """Plain knobs given, per-block values given ({knob: {block: value}}), and the seed; raises on any bad key."""
    given: dict[str, Any] = {}
    blocks: dict[str, dict[int, Any]] = {name: {} for name in PER_BLOCK}
    seed = None
    open_params = _family_takes_own_params(flat)
    for key, value in flat.items():
        value = value.item() if hasattr(value, "item") and not isinstance(value, (str, bytes)) else value  # numpy
        if key in RESERVED:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TrialConfigError(f"{key} = {value!r}: not an int (the trial's random seed)")
            seed = value
            continue
        if open_params and split_param(key) is None and key not in PER_BLOCK:
            _check_own_param(key, value)
            continue
        name, block = _knob_name(key, value)
        knob = KNOBS[name]
        problem = knob.problem(value)
        if problem:
            raise TrialConfigError(f"{key} = {value!r}: {problem} ({knob.help})")
        if block is None:
            given[name] = knob.coerce(value)
        else:
            blocks[name][block] = knob.coerce(value)
    return given, blocks, seed


def _family_takes_own_params(flat: Mapping[str, Any]) -> bool:
    """Whether the selected family (e.g. `custom`) takes parameters of the user's own besides the knobs."""
    family = flat.get("family", KNOBS["family"].default)
    return isinstance(family, str) and family in MODELS and MODELS.get(family).open_params


def _check_own_param(key: str, value: Any) -> None:
    """A user parameter (declared by the space for a custom model): its range is the space's; here, a plain
    value that the builder can read and a checkpoint or bundle can store."""
    if not isinstance(value, (str, int, float, bool)):
        raise TrialConfigError(f"{key} = {value!r}: a model parameter of your own must be a string, number or "
                               "boolean")


def _model(values: dict[str, Any], flat: Mapping[str, Any]) -> Any:
    """The family's config; a family taking its own parameters also gets every sampled value (`sampled`)."""
    family = MODELS.get(values["family"])
    if not family.open_params:
        return _sub(family.config, values, "family")
    sampled = {k: (v.item() if hasattr(v, "item") and not isinstance(v, str) else v)
               for k, v in flat.items() if k not in RESERVED}
    return _sub(family.config, {**values, "sampled": sampled}, "family")


def _knob_name(key: str, value: Any) -> tuple[str, int | None]:
    split = split_param(key)
    if split is None:
        if key in PER_BLOCK:
            raise TrialConfigError(f"{key} = {value!r}: {key} is set per block, as {key}_1, {key}_2, ... "
                                   f"(one per {KNOBS[key].per_block})")
        plain = sorted(set(KNOBS) - PER_BLOCK)
        near = difflib.get_close_matches(key, plain + [f"{k}_1" for k in PER_BLOCK], n=3)
        hint = f"; did you mean {' or '.join(map(repr, near))}?" if near else ""
        raise TrialConfigError(f"{key} = {value!r}: not a knob the trainable understands{hint} "
                               f"Known: {', '.join(plain)}; per block, as <name>_1, <name>_2, ...: "
                               f"{', '.join(sorted(PER_BLOCK))}; reserved: {', '.join(sorted(RESERVED))}")
    name, block = split
    if block is not None and not 1 <= block <= max_blocks(KNOBS[name]):
        raise TrialConfigError(f"{key} = {value!r}: {name} has blocks 1 to {max_blocks(KNOBS[name])} "
                               f"(one per {KNOBS[name].per_block})")
    return name, block


def _resolved(given: dict[str, Any], blocks: dict[str, dict[int, Any]]) -> dict[str, Any]:
    """Every knob's value: given, else its default (plain defaults first, so DependsOn can read them);
    a per-block knob becomes a tuple with one value per block its counting knob says exist."""
    values = dict(given)
    plain = {n: k for n, k in KNOBS.items() if not k.per_block}
    for name, knob in plain.items():
        if name not in values and not isinstance(knob.default, DependsOn):
            values[name] = knob.default
    for name, knob in plain.items():
        if name not in values:
            values[name] = knob.default.resolve(values)
    for name in PER_BLOCK:
        block_knob = KNOBS[name]
        assert block_knob.per_block is not None  # PER_BLOCK holds exactly the knobs with a per_block counter
        count = values[block_knob.per_block]
        values[name] = tuple(blocks[name].get(i, block_knob.default_at(i)) for i in range(1, count + 1))
    return values


def _sub(cls: type, values: dict[str, Any], selector: str) -> Any:
    """A concern's config dataclass from the resolved knobs: `name` is the selecting knob, other fields are knobs."""
    kwargs = {}
    for f in fields(cls):
        key = selector if f.name == "name" else f.name
        if key not in values:  # a programming error: a typed field with no row in KNOBS
            raise TypeError(f"{cls.__name__}.{f.name} has no knob {key!r} in trainables.knobs.KNOBS")
        kwargs[f.name] = values[key]
    return cls(**kwargs)

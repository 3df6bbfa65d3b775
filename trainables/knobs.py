"""Every config key the trainable understands: its type, the values it accepts, and its default.

This table is the one place a knob is defined. Search spaces are checked against it before anything
launches (a typo in a parameter name or a learning rate below zero is an error, not a silently ignored
knob), and `trial_config.parse_trial_config` fills every knob a trial's flat config leaves out with
the default given here.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .activations import ACTIVATIONS
from .augment import AUGMENTATIONS
from .finetune import POLICIES
from .losses import LOSSES
from .models import MODELS
from .models.builders import reference_problem
from .optimizers import OPTIMIZERS
from .registry import Registry
from .schedules import SCHEDULES


@dataclass(frozen=True)
class DependsOn:
    """A default that depends on another knob: `values[<that knob's value>]`, else `otherwise`."""

    knob: str
    values: dict[Any, Any]
    otherwise: Any

    def resolve(self, config: Mapping[str, Any]) -> Any:
        return self.values.get(config[self.knob], self.otherwise)

    def describe(self) -> str:
        shown = "; ".join(f"{_show(v)} when {self.knob} is {_show(k)}" for k, v in self.values.items())
        return f"{shown}; else {_show(self.otherwise)}"


@dataclass(frozen=True)
class Knob:
    help: str
    default: Any                           # a value; a DependsOn; per-block: one value or a tuple (block i at i-1)
    names: Registry | None = None          # categorical knob: values must be registered names
    low: float = -math.inf                 # numeric knob: allowed interval
    high: float = math.inf
    low_open: bool = False                 # True: low itself is not allowed
    kind: type | tuple[type, ...] = (int, float)
    choices: tuple[Any, ...] = ()          # a fixed small set of allowed values
    check: Callable[[Any], str | None] | None = None  # an open set (e.g. timm names): value -> problem or None
    per_block: str | None = None           # per-block knob (`filters_1`, `filters_2`, ...): the knob counting blocks

    def problem(self, value: Any) -> str | None:
        """Why `value` is not allowed, or None."""
        if self.check is not None:
            return self.check(value)
        if self.choices:
            return None if value in self.choices else f"{value!r} is not one of {list(self.choices)}"
        if self.names is not None:
            return None if value in self.names else f"{value!r} is not a registered name; registered: {self.names.names()}"
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, self.kind):
            return f"{value!r} is not {getattr(self.kind, '__name__', 'a number')}; allowed: {self.allowed()}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None  # a boolean (or any other non-number) has no range to check
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            return f"{value!r} is outside the allowed range {self.allowed()}"
        return None

    def allowed(self) -> str:
        """What the knob accepts, in words (for error messages and the docs table)."""
        if self.names is not None:
            return f"a registered name: {', '.join(self.names.names())}"
        if self.choices:
            return " / ".join(map(str, self.choices))
        if self.kind is bool:
            return "true / false"
        if self.check is not None:
            return self.help
        return f"{'(' if self.low_open else '['}{self.low:g}, {self.high:g}]"

    def coerce(self, value: Any) -> Any:
        """An allowed value as the type the typed config holds (a number knob's int becomes a float)."""
        if self.kind == (int, float) and self.names is None and not self.choices and self.check is None:
            return float(value)
        return value

    def default_at(self, block: int) -> Any:
        """The default of block `block` (1-based) of a per-block knob."""
        return self.default[block - 1] if isinstance(self.default, tuple) else self.default

    def default_text(self) -> str:
        if isinstance(self.default, DependsOn):
            return self.default.describe()
        if isinstance(self.default, tuple):
            return ", ".join(map(_show, self.default[:4])) + ", ... (block 1, 2, ...)"
        return _show(self.default)


def _show(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else (f"{v:g}" if isinstance(v, float) else str(v))


def _timm_name_problem(value: Any) -> str | None:
    import timm

    if isinstance(value, str) and timm.is_model(value.split(".")[0]):
        return None
    return f"{value!r} is not a timm model name (see timm.list_models(), e.g. 'resnet18', 'vit_tiny_patch16_224')"


def _drop(help: str, **kw: Any) -> Knob:
    return Knob(help, 0.0, low=0.0, high=0.95, **kw)


KNOBS: dict[str, Knob] = {
    "family": Knob("model family", "cnn", MODELS),
    "activation": Knob("activation function (mlp, cnn, lenet5, resnet)", "relu", ACTIVATIONS),
    "optimizer": Knob("optimizer", "adam", OPTIMIZERS),
    "loss": Knob("loss function (all take logits)", "cross_entropy", LOSSES),
    "schedule": Knob("learning-rate schedule: per epoch (step, exponential, plateau) or per step over the planned "
                     "training length (onecycle, cosine)", "none", SCHEDULES),
    "lr": Knob("learning rate", 1e-3, low=0.0, low_open=True),
    "momentum": Knob("momentum (sgd, rmsprop)", 0.0, low=0.0, high=0.999),
    "nesterov": Knob("Nesterov momentum (sgd, with momentum > 0)", False, kind=bool),
    "weight_decay": Knob("L2 regularisation (optimizer weight decay)", 0.0, low=0.0),
    "l1": Knob("L1 regularisation coefficient on weights", 0.0, low=0.0),
    "batch_size": Knob("training batch size", 128, low=1, kind=int),
    "label_smoothing": Knob("label smoothing (cross_entropy, kl_div)", 0.0, low=0.0, high=0.5),
    "focal_gamma": Knob("focusing parameter of the focal loss", 2.0, low=0.0, high=10.0),
    "step_size": Knob("epochs between lr drops (step)", 3, low=1, kind=int),
    # one factor per drop (step) vs per epoch (exponential): 0.9 per epoch is 0.5 per ~7 epochs
    "lr_gamma": Knob("lr decay factor (step, exponential)", DependsOn("schedule", {"exponential": 0.9}, 0.5),
                     low=0.0, high=1.0, low_open=True),
    "plateau_factor": Knob("lr factor on plateau", 0.1, low=0.0, high=1.0, low_open=True),
    "plateau_patience": Knob("epochs without improvement before an lr drop", 3, low=0, kind=int),
    # onecycle: the share of steps rising to the peak lr (fastai's 0.25); cosine: a linear warm-up (0 = none)
    "warmup_fraction": Knob("share of the schedule spent warming up (onecycle, cosine)",
                            DependsOn("schedule", {"onecycle": 0.25}, 0.0), low=0.0, high=0.9),
    "patience": Knob("early stopping: epochs without val_loss improvement (0 = off)", 0, low=0, kind=int),
    # the cnn preset's hand-tuned CNN uses batch norm, the mlp preset's dense baseline does not
    "batch_norm": Knob("batch normalisation (mlp, cnn)", DependsOn("family", {"cnn": True}, False), kind=bool),
    "mlp_layers": Knob("hidden layers of the MLP", 2, low=1, high=16, kind=int),
    "mlp_units": Knob("units of MLP layer i (per block)", 256, low=1, kind=int, per_block="mlp_layers"),
    "mlp_dropout": _drop("dropout after MLP layer i (per block)", per_block="mlp_layers"),
    "conv_blocks": Knob("conv blocks of the VGG-style CNN", 3, low=1, high=8, kind=int),
    # filters double per block: 32, 64, 128, ...
    "filters": Knob("filters of conv block i (per block)", tuple(32 * 2 ** i for i in range(8)), low=1, kind=int,
                    per_block="conv_blocks"),
    "block_dropout": _drop("dropout after conv block i (per block)", per_block="conv_blocks"),
    "convs_per_block": Knob("convolutions per block", 2, low=1, high=6, kind=int),
    "kernel_size": Knob("convolution kernel size", 3, low=1, high=11, kind=int),
    "pool": Knob("pooling: max or avg (cnn, lenet5)", "max", choices=("max", "avg")),
    "global_pool": Knob("global average pooling before the dense head", False, kind=bool),
    "dense_layers": Knob("dense layers in the head (cnn)", 1, low=0, high=8, kind=int),
    "dense_units": Knob("units per dense layer (cnn)", 128, low=1, kind=int),
    "dense_dropout": _drop("dropout in the dense head (cnn, lenet5)"),
    # resnet family: residual stages with batch norm and global average pooling
    "resnet_width": Knob("channels of the first residual stage, doubled per stage (resnet)", 32, low=1, kind=int),
    "resnet_stages": Knob("residual stages; each after the first halves the resolution (resnet)", 3, low=1, high=6,
                          kind=int),
    "resnet_blocks": Knob("residual blocks per stage (resnet)", 1, low=1, high=8, kind=int),
    # timm family: a pretrained backbone and a new head
    "backbone": Knob("timm model name (timm)", "resnet18", check=_timm_name_problem),
    "pretrained": Knob("start from pretrained weights (timm)", True, kind=bool),
    "finetune": Knob("fine-tuning policy (timm)", DependsOn("pretrained", {True: "linear_probe"}, "full"),
                     choices=POLICIES),
    "unfreeze_stages": Knob("stages trained from the end with finetune: last_k (timm)", 1, low=1, high=32, kind=int),
    "backbone_lr_mult": Knob("backbone learning rate as a multiple of the head's (timm)", 1.0, low=0.0, high=10.0,
                             low_open=True),
    "frozen_warmup_epochs": Knob("first epochs with the whole backbone frozen (timm)", 0, low=0, kind=int),
    "head_dropout": _drop("dropout before the linear head (timm, resnet)"),
    "head_hidden": Knob("units of the head's hidden dense layer, 0 = none (timm)", 0, low=0, kind=int),
    "head_activation": Knob("activation of the head's hidden layer (timm)", "relu", ACTIVATIONS),
    # custom family: the user's builder (trainables.models.builders)
    "builder": Knob("the user's model builder, 'module:function' or 'path/to/file.py:function' (custom)", "",
                    check=lambda v: None if v == "" else reference_problem(v)),
    "image_size": Knob("input resolution the images are resized to, 0 = backbone default (timm)", 0, low=0,
                       high=1024, kind=int),
}

AUG_PREFIX = "aug_"
_AUG_RANGES = {"hflip": 1.0, "erase": 1.0, "rotate": 180.0, "crop": 16.0}
for _name in AUGMENTATIONS.names():
    KNOBS[AUG_PREFIX + _name] = Knob(f"augmentation {_name} strength (0 = off)", 0.0, low=0.0,
                                     high=_AUG_RANGES.get(_name, 1.0))

PER_BLOCK = {name for name, knob in KNOBS.items() if knob.per_block}
RESERVED = {"seed"}  # injected per trial by the search


def split_param(param: str) -> tuple[str, int | None] | None:
    """(knob name, block index or None) of a parameter name such as `lr` or `filters_3`; None if unknown
    (a per-block knob's bare name, `filters`, is unknown: it is only ever set per block)."""
    if param in KNOBS and param not in PER_BLOCK:
        return param, None
    m = re.fullmatch(r"(.+)_(\d+)", param)
    if m and m.group(1) in PER_BLOCK:
        return m.group(1), int(m.group(2))
    return None


def max_blocks(knob: Knob) -> int:
    """How many blocks a per-block knob can have: the upper bound of the knob counting them."""
    return int(KNOBS[knob.per_block].high) if knob.per_block else 0


def knob_for(param: str) -> Knob | None:
    """The knob a (possibly per-block, e.g. `filters_3`) parameter name sets; None if unknown or out of range."""
    split = split_param(param)
    if split is None:
        return None
    knob = KNOBS[split[0]]
    if split[1] is not None and not 1 <= split[1] <= max_blocks(knob):
        return None
    return knob

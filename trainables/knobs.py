"""Every config key the trainable understands, with what values it accepts.

Search spaces are checked against this table before anything launches, so a typo in a
parameter name or a learning rate range below zero is an error, not a silently ignored knob.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

from .activations import ACTIVATIONS
from .augment import AUGMENTATIONS
from .losses import LOSSES
from .models import MODELS
from .optimizers import OPTIMIZERS
from .finetune import POLICIES
from .registry import Registry
from .schedules import SCHEDULES


@dataclass(frozen=True)
class Knob:
    help: str
    names: Registry | None = None          # categorical knob: values must be registered names
    low: float = -math.inf                 # numeric knob: allowed interval
    high: float = math.inf
    low_open: bool = False                 # True: low itself is not allowed
    kind: type | tuple[type, ...] = (int, float)
    choices: tuple[Any, ...] = ()          # a fixed small set of allowed values
    check: Callable[[Any], str | None] | None = None  # an open set (e.g. timm names): value -> problem or None

    def problem(self, value: Any) -> str | None:
        """Why `value` is not allowed, or None."""
        if self.check is not None:
            return self.check(value)
        if self.choices:
            return None if value in self.choices else f"{value!r} is not one of {list(self.choices)}"
        if self.names is not None:
            return None if value in self.names else f"{value!r} is not a registered name; registered: {self.names.names()}"
        if isinstance(value, bool) and bool not in (self.kind if isinstance(self.kind, tuple) else (self.kind,)):
            return f"{value!r} is not a number"
        if not isinstance(value, self.kind):
            return f"{value!r} is not {getattr(self.kind, '__name__', 'a number')}"
        if isinstance(value, bool):
            return None
        too_low = value <= self.low if self.low_open else value < self.low
        if too_low or value > self.high:
            lo = "(" if self.low_open else "["
            return f"{value!r} is outside the allowed range {lo}{self.low:g}, {self.high:g}]"
        return None


PROB = {"low": 0.0, "high": 1.0}
KNOBS: dict[str, Knob] = {
    "family": Knob("model family", MODELS),
    "activation": Knob("activation function", ACTIVATIONS),
    "optimizer": Knob("optimizer", OPTIMIZERS),
    "loss": Knob("loss function (all take logits)", LOSSES),
    "schedule": Knob("learning-rate schedule, stepped per epoch", SCHEDULES),
    "lr": Knob("learning rate", low=0.0, low_open=True),
    "momentum": Knob("momentum (sgd, rmsprop)", low=0.0, high=0.999),
    "nesterov": Knob("Nesterov momentum (sgd)", kind=bool),
    "weight_decay": Knob("L2 regularisation (optimizer weight decay)", low=0.0),
    "l1": Knob("L1 regularisation coefficient on weights", low=0.0),
    "batch_size": Knob("training batch size", low=1, kind=int),
    "label_smoothing": Knob("label smoothing (cross_entropy, kl_div)", low=0.0, high=0.5),
    "focal_gamma": Knob("focusing parameter of the focal loss", low=0.0, high=10.0),
    "step_size": Knob("epochs between lr drops (step)", low=1, kind=int),
    "lr_gamma": Knob("lr decay factor (step, exponential)", low=0.0, high=1.0, low_open=True),
    "plateau_factor": Knob("lr factor on plateau", low=0.0, high=1.0, low_open=True),
    "plateau_patience": Knob("epochs without improvement before an lr drop", low=0, kind=int),
    "patience": Knob("early stopping: epochs without val_loss improvement (0 = off)", low=0, kind=int),
    "batch_norm": Knob("batch normalisation (mlp, cnn)", kind=bool),
    "mlp_layers": Knob("hidden layers of the MLP", low=1, high=16, kind=int),
    "mlp_units": Knob("units of MLP layer i (per block)", low=1, kind=int),
    "mlp_dropout": Knob("dropout after MLP layer i (per block)", low=0.0, high=0.95),
    "conv_blocks": Knob("conv blocks of the VGG-style CNN", low=1, high=8, kind=int),
    "filters": Knob("filters of conv block i (per block)", low=1, kind=int),
    "block_dropout": Knob("dropout after conv block i (per block)", low=0.0, high=0.95),
    "convs_per_block": Knob("convolutions per block", low=1, high=6, kind=int),
    "kernel_size": Knob("convolution kernel size", low=1, high=11, kind=int),
    "pool": Knob("pooling: max or avg", choices=("max", "avg")),
    "global_pool": Knob("global average pooling before the dense head", kind=bool),
    "dense_layers": Knob("dense layers in the head (cnn)", low=0, high=8, kind=int),
    "dense_units": Knob("units per dense layer (cnn)", low=1, kind=int),
    "dense_dropout": Knob("dropout in the dense head (cnn, lenet5)", low=0.0, high=0.95),
    "resnet_width": Knob("channels of the first residual stage, doubled per stage (resnet)", low=1, kind=int),
    "resnet_stages": Knob("residual stages; each after the first halves the resolution (resnet)", low=1, high=6, kind=int),
    "resnet_blocks": Knob("residual blocks per stage (resnet)", low=1, high=8, kind=int),
    # timm family: a pretrained backbone and a new head
    "backbone": Knob("timm model name (timm)", check=lambda v: _timm_name_problem(v)),
    "pretrained": Knob("start from pretrained weights (timm)", kind=bool),
    "finetune": Knob("fine-tuning policy (timm)", choices=POLICIES),
    "unfreeze_stages": Knob("stages trained from the end with finetune: last_k (timm)", low=1, high=32, kind=int),
    "backbone_lr_mult": Knob("backbone learning rate as a multiple of the head's (timm)", low=0.0, high=10.0,
                             low_open=True),
    "frozen_warmup_epochs": Knob("first epochs with the whole backbone frozen (timm)", low=0, kind=int),
    "head_dropout": Knob("dropout before the linear head (timm, resnet)", low=0.0, high=0.95),
    "head_hidden": Knob("units of the head's hidden dense layer, 0 = none (timm)", low=0, kind=int),
    "head_activation": Knob("activation of the head's hidden layer (timm)", ACTIVATIONS),
    "image_size": Knob("input resolution the images are resized to, 0 = backbone default (timm)", low=0,
                       high=1024, kind=int),
}


def _timm_name_problem(value: Any) -> str | None:
    import timm

    if isinstance(value, str) and timm.is_model(value.split(".")[0]):
        return None
    return f"{value!r} is not a timm model name (see timm.list_models(), e.g. 'resnet18', 'vit_tiny_patch16_224')"

_AUG_RANGES = {"hflip": 1.0, "erase": 1.0, "rotate": 180.0, "crop": 16.0}
for _name in AUGMENTATIONS.names():
    KNOBS[f"aug_{_name}"] = Knob(f"augmentation {_name} strength (0 = off)", low=0.0, high=_AUG_RANGES.get(_name, 1.0))

PER_BLOCK = {"mlp_units", "mlp_dropout", "filters", "block_dropout"}
RESERVED = {"seed"}  # injected per trial by the search


def knob_for(param: str) -> Knob | None:
    """The knob a (possibly per-block, e.g. `filters_3`) parameter name sets."""
    if param in KNOBS:
        return KNOBS[param]
    m = re.fullmatch(r"(.+)_(\d+)", param)
    if m and m.group(1) in PER_BLOCK:
        return KNOBS[m.group(1)]
    return None

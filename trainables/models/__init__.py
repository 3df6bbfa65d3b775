"""Model families by name. A family is a typed config (its knobs) and `build(config, in_shape, num_classes)`."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from torch import nn

from ..registry import Registry

if TYPE_CHECKING:
    from ..trial_config import TrialConfig


@dataclass(frozen=True)
class ModelFamily:
    """A registered family: `config` is the frozen dataclass of its knobs (field names are knob names,
    `name` is the family), `build(config, in_shape, num_classes[, weights=])` makes the model."""

    config: type
    build: Callable[..., nn.Module]
    uses_weights: bool = False  # build takes the experiment's WeightSources (pretrained backbones)
    # the family takes parameters of the user's own besides the knobs (its config's `sampled`: every sampled value)
    open_params: bool = False


MODELS: Registry[ModelFamily] = Registry("model family")

from . import cnn, custom, lenet, mlp, resnet, timm_family  # noqa: E402,F401  (register the built-in families)
from .builders import BuilderError, register_builder  # noqa: E402
from .pretrained import WeightSources, WeightsUnavailable  # noqa: E402


def build_model(config: TrialConfig | Mapping[str, Any], in_shape: tuple[int, int, int], num_classes: int,
                weights: WeightSources | None = None) -> nn.Module:
    """Build the trial's model family for inputs of shape (C, H, W).

    A flat dict (a saved trial's config, e.g. a checkpoint's or a bundle's) goes through
    `parse_trial_config` first, with the same checks and defaults as a trial.

    Example:
        >>> build_model({"family": "lenet5"}, (1, 28, 28), 10)  # doctest: +ELLIPSIS
        LeNet5(...)
    """
    from ..trial_config import TrialConfig, parse_trial_config

    cfg = config if isinstance(config, TrialConfig) else parse_trial_config(config)
    family = MODELS.get(cfg.model.name)
    if weights is not None and family.uses_weights:
        return family.build(cfg.model, in_shape, num_classes, weights=weights)
    return family.build(cfg.model, in_shape, num_classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["MODELS", "BuilderError", "ModelFamily", "WeightSources", "WeightsUnavailable", "build_model", "count_parameters",
           "register_builder"]

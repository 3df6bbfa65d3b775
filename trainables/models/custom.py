"""The `custom` family: a model from the user's own code.

`builder` names a callable (`module:function`, `path/to/file.py:function`, or a registered Python
callable; see `builders`); it receives the trial's sampled values, the input shape (C, H, W) and the
number of classes, and returns an `nn.Module`. The space may declare parameters of the user's own
(e.g. `width`) for this family; they reach the builder in `config` with hpsearch's knobs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import nn

from . import MODELS, ModelFamily
from .builders import BuilderError, resolve_builder

CUSTOM = "custom"


@dataclass(frozen=True)
class CustomConfig:
    """Knobs of the `custom` family; `sampled` is the trial's sampled values, user parameters included."""

    name: str
    builder: str
    sampled: dict[str, Any] = field(default_factory=dict, compare=False)


def build_custom(cfg: CustomConfig, in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """Call the user's builder; any failure is a BuilderError naming the builder (the trial ends ERROR)."""
    if not cfg.builder:
        raise BuilderError("family 'custom' needs a builder: set the parameter `builder` to 'module:function' "
                           "or 'path/to/file.py:function'")
    build = resolve_builder(cfg.builder)
    try:
        model = build(dict(cfg.sampled), tuple(in_shape), num_classes)
    except Exception as e:  # noqa: BLE001 - the user's code may raise anything; name it and the builder
        raise BuilderError(f"builder {cfg.builder!r} raised {type(e).__name__}: {e}") from e
    if not isinstance(model, nn.Module):
        raise BuilderError(f"builder {cfg.builder!r} returned {type(model).__name__}, not a torch.nn.Module")
    return model


MODELS.register(CUSTOM, ModelFamily(CustomConfig, build_custom, open_params=True))

"""Search spaces as data: typed parameters with conditions, validated, compiled to Optuna.

Pure: importing `spaces` pulls in neither torch, nor ray, nor optuna.
"""
from __future__ import annotations

from ._compile import define_by_run
from ._errors import SpaceError
from ._params import Categorical, Condition, Constant, FloatRange, IntRange, Param
from ._parse import load_space, parse_space
from ._presets import get_preset, list_presets, preset_path, resolve_space
from ._render import render_space
from ._space import Space
from ._yaml import DuplicateKeyError, safe_load_strict

__all__ = [
    "Categorical", "Condition", "Constant", "DuplicateKeyError", "FloatRange", "IntRange", "Param", "Space",
    "SpaceError", "define_by_run", "get_preset", "list_presets", "load_space", "parse_space", "preset_path",
    "render_space", "resolve_space", "safe_load_strict",
]

"""YAML (or dict) -> validated `Space`, with errors that name file, path and problem."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml

from ._errors import SpaceError
from ._params import PARAM_KINDS, Categorical, Condition, Constant, FloatRange, IntRange, Param
from ._space import Space
from ._yaml import DuplicateKeyError, safe_load_strict

_TOP_KEYS = {"name", "description", "params", "warm_start"}
_COMMON_KEYS = {"type", "when", "per_block", "help"}
_KIND_KEYS = {
    "categorical": {"choices"},
    "int": {"low", "high", "step", "log"},
    "float": {"low", "high", "step", "log"},
    "const": {"value"},
}


def load_space(path: str | Path) -> Space:
    """Read and validate a space file.

    Example:
        >>> space = load_space("spaces/presets/cnn.yaml")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise SpaceError(str(path), "<file>", "no such file")
    try:
        data = safe_load_strict(path.read_text())
    except DuplicateKeyError as e:
        raise SpaceError(str(path), str(e.key), f"duplicate name (line {e.line})") from None
    except yaml.YAMLError as e:
        raise SpaceError(str(path), "<file>", f"not valid YAML: {e}") from None
    return parse_space(data, source=str(path))


def parse_space(data: Any, source: str = "<space>") -> Space:
    """Validate a mapping (as read from YAML) into a `Space`."""
    if not isinstance(data, dict):
        raise SpaceError(source, "<top>", f"must be a mapping with keys {sorted(_TOP_KEYS)}, got {type(data).__name__}")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SpaceError(source, sorted(unknown)[0], f"unknown key; allowed: {sorted(_TOP_KEYS)}")
    raw_params = data.get("params")
    if not isinstance(raw_params, dict) or not raw_params:
        raise SpaceError(source, "params", "must be a non-empty mapping of parameter name -> definition")

    declared: dict[str, Param] = {}
    per_block: dict[str, str] = {}
    for name, spec in raw_params.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise SpaceError(source, f"params.{name}", "parameter names must be identifiers (letters, digits, _)")
        declared[name] = _parse_param(name, spec, source)
        if isinstance(spec, dict) and "per_block" in spec:
            per_block[name] = spec["per_block"]

    _check_conditions(declared, source)
    params = _expand_per_block(declared, per_block, source)
    space = Space(
        name=str(data.get("name", Path(source).stem)),
        params=tuple(params),
        description=str(data.get("description", "")),
        source=source,
        raw=data,
    )
    warm = data.get("warm_start", []) or []
    if not isinstance(warm, list):
        raise SpaceError(source, "warm_start", "must be a list of configurations")
    for i, point in enumerate(warm):
        if not isinstance(point, dict):
            raise SpaceError(source, f"warm_start[{i}]", "must be a mapping of parameter -> value")
        space.check_config(point, path=f"warm_start[{i}]")
    object.__setattr__(space, "warm_start", tuple(dict(p) for p in warm))
    return space


def _parse_param(name: str, spec: Any, source: str) -> Param:
    path = f"params.{name}"
    if not isinstance(spec, dict):
        raise SpaceError(source, path, "must be a mapping with a 'type' key")
    kind = spec.get("type")
    if kind not in PARAM_KINDS:
        raise SpaceError(source, f"{path}.type", f"unknown parameter type {kind!r}; allowed: {sorted(PARAM_KINDS)}")
    unknown = set(spec) - _COMMON_KEYS - _KIND_KEYS[kind]
    if unknown:
        allowed = sorted(_COMMON_KEYS | _KIND_KEYS[kind])
        raise SpaceError(source, f"{path}.{sorted(unknown)[0]}", f"unknown key for a {kind} parameter; allowed: {allowed}")
    conditions = _parse_when(spec.get("when"), f"{path}.when", source)
    help_text = str(spec.get("help", ""))

    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise SpaceError(source, f"{path}.choices", "must be a non-empty list")
        for c in choices:
            if not isinstance(c, (str, int, float, bool)):
                raise SpaceError(source, f"{path}.choices", f"choice {c!r} is not a string, number or boolean")
        if len({(type(c), c) for c in choices}) != len(choices):
            raise SpaceError(source, f"{path}.choices", f"duplicate choices in {choices}")
        return Categorical(name, choices=tuple(choices), conditions=conditions, help=help_text)
    if kind == "const":
        if "value" not in spec:
            raise SpaceError(source, f"{path}.value", "a const parameter needs a value")
        return Constant(name, value=spec["value"], conditions=conditions, help=help_text)

    number = int if kind == "int" else float
    low, high = (_number(spec, key, number, path, source) for key in ("low", "high"))
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise SpaceError(source, f"{path}.log", f"must be true or false, got {log!r}")
    if low > high:
        raise SpaceError(source, path, f"low ({low}) is greater than high ({high})")
    if log and low <= 0:
        raise SpaceError(source, f"{path}.low", f"a log range needs low > 0, got {low}")
    step = spec.get("step")
    if step is not None:
        step = _number(spec, "step", number, path, source)
        if step <= 0:
            raise SpaceError(source, f"{path}.step", f"must be > 0, got {step}")
        if log:
            raise SpaceError(source, f"{path}.step", "step and log cannot be combined (Optuna does not support it)")
    if kind == "int":
        return IntRange(name, low=low, high=high, step=step or 1, log=log, conditions=conditions, help=help_text)
    return FloatRange(name, low=low, high=high, step=step, log=log, conditions=conditions, help=help_text)


def _number(spec: dict, key: str, number: type, path: str, source: str) -> Any:
    value = spec.get(key)
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or (number is int and not float(value).is_integer())
    ):
        raise SpaceError(source, f"{path}.{key}", f"must be a finite {number.__name__}, got {value!r}")
    return number(value)


def _parse_when(when: Any, path: str, source: str) -> tuple[Condition, ...]:
    if when is None:
        return ()
    if not isinstance(when, dict) or not when:
        raise SpaceError(source, path, "must be a mapping of parameter -> value or list of values")
    conds = []
    for parent, values in when.items():
        values = values if isinstance(values, list) else [values]
        if not values:
            raise SpaceError(source, f"{path}.{parent}", "needs at least one value")
        conds.append(Condition(str(parent), values=tuple(values)))
    return tuple(conds)


def _check_conditions(declared: dict[str, Param], source: str) -> None:
    for p in declared.values():
        for c in p.conditions:
            path = f"params.{p.name}.when.{c.param}"
            if c.param not in declared:
                raise SpaceError(source, path, f"names parameter {c.param!r}, which does not exist")
            if c.param == p.name:
                raise SpaceError(source, path, "a parameter cannot be conditioned on itself")
            parent = declared[c.param]
            for v in c.values or ():
                if not parent.can_take(v):
                    raise SpaceError(source, path, f"value {v!r} can never be taken: {c.param} is {parent.describe()}")


def _expand_per_block(declared: dict[str, Param], per_block: dict[str, str], source: str) -> list[Param]:
    """`filters: {per_block: conv_blocks}` -> filters_1..filters_N, filters_i existing when conv_blocks >= i."""
    out: list[Param] = []
    names = set(declared)
    for p in declared.values():
        counter_name = per_block.get(p.name)
        if counter_name is None:
            out.append(p)
            continue
        path = f"params.{p.name}.per_block"
        counter = declared.get(counter_name) if isinstance(counter_name, str) else None
        if counter is None:
            raise SpaceError(source, path, f"names parameter {counter_name!r}, which does not exist")
        if counter_name in per_block:
            raise SpaceError(source, path, f"{counter_name!r} is itself per-block; per_block must name a plain int parameter")
        n_max = _max_count(counter)
        if n_max is None:
            raise SpaceError(source, path, f"{counter_name!r} must be an int parameter (or a categorical/const of ints >= 1)")
        for i in range(1, n_max + 1):
            name = f"{p.name}_{i}"
            if name in names:
                raise SpaceError(source, f"params.{name}", f"duplicate name: also produced by per_block expansion of {p.name!r}")
            names.add(name)
            conds = p.conditions + (Condition(counter_name, at_least=i),)
            out.append(_renamed(p, name, conds))
    return out


def _max_count(counter: Param) -> int | None:
    if isinstance(counter, IntRange) and counter.low >= 0:
        return counter.high
    values = counter.choices if isinstance(counter, Categorical) else (
        (counter.value,) if isinstance(counter, Constant) else ())
    if values and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        return max(values)  # type: ignore[return-value]
    return None


def _renamed(p: Param, name: str, conditions: tuple[Condition, ...]) -> Param:
    from dataclasses import replace

    return replace(p, name=name, conditions=conditions)

"""A space with a custom model (`family: custom`), checked and made ready before anything launches.

- A builder given as a Python callable is registered and replaced by its reference (`module:qualname`);
  a file reference (`path/to/file.py:function`) is made absolute (relative paths are from the space file).
- Every builder reference must resolve on the driver, from where the workers get the code: the installed
  packages plus `cluster.runtime_env` (`working_dir`, `py_modules`). A file reference's file is added to
  `py_modules` by itself, so it reaches every node of a cluster.
- Parameters of the user's own (not hpsearch knobs) may only exist when the family is `custom`.

The builder itself is not called before launch: what it builds depends on each trial's values, and a
builder that raises or returns no module ends only that trial, as an error that names the builder.
"""
from __future__ import annotations

import copy
import difflib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

from spaces import Categorical, Constant, Param, Space, SpaceError, parse_space
from trainables.knobs import KNOBS
from trainables.models import MODELS
from trainables.models.builders import (
    BuilderError,
    code_paths,
    is_file_reference,
    register_builder,
    resolve_builder,
    use_code_paths,
)

BUILDER = "builder"


def named_builders(raw: dict[str, Any], base_dir: str | Path = ".") -> dict[str, Any]:
    """A copy of a space mapping whose builders are references: callables registered (`register_builder`),
    relative file references made absolute from `base_dir`. Call it before `spaces.parse_space`.

    Example:
        >>> named_builders({"params": {"builder": {"type": "const", "value": my_net}}})  # doctest: +SKIP
        {'params': {'builder': {'type': 'const', 'value': '__main__:my_net'}}}
    """
    out = copy.copy(raw)
    spec = (raw.get("params") or {}).get(BUILDER) if isinstance(raw.get("params"), dict) else None
    if isinstance(spec, dict):
        spec = dict(spec)
        if "value" in spec:
            spec["value"] = _reference(spec["value"], base_dir)
        if isinstance(spec.get("choices"), list):
            spec["choices"] = [_reference(c, base_dir) for c in spec["choices"]]
        out["params"] = {**raw["params"], BUILDER: spec}
    if isinstance(raw.get("warm_start"), list):
        out["warm_start"] = [{**p, BUILDER: _reference(p[BUILDER], base_dir)} if isinstance(p, dict) and BUILDER in p
                             else p for p in raw["warm_start"]]
    return out


def _reference(value: Any, base_dir: str | Path) -> Any:
    if callable(value):
        return register_builder(value)
    if isinstance(value, str) and is_file_reference(value):
        where, _, attr = value.rpartition(":")
        return f"{(Path(base_dir) / Path(where).expanduser()).resolve()}:{attr}"
    return value


def with_named_builders(space: Space) -> Space:
    """`space` with its builders as references (see `named_builders`); the same object when nothing changes."""
    base = Path(space.source).parent if Path(space.source).is_file() else Path.cwd()
    raw = named_builders(space.raw, base)
    return space if raw == space.raw else parse_space(raw, space.source)


def builder_references(space: Space) -> list[str]:
    """Every builder reference the space can sample."""
    if BUILDER not in space.names:
        return []
    p = space.param(BUILDER)
    values = p.choices if isinstance(p, Categorical) else (p.value,) if isinstance(p, Constant) else ()
    return [v for v in values if isinstance(v, str) and v]


def check_builders(space: Space, runtime_env: dict[str, Any]) -> None:
    """Raise SpaceError naming `params.builder` and the reference that does not resolve on the driver;
    and one for a space that can pick a custom model but names no builder."""
    if can_pick_custom(space) and not builder_references(space):
        raise SpaceError(space.source, f"params.{BUILDER}", "family 'custom' needs a builder: add "
                         "`builder: {type: const, value: 'module:function'}` (or 'path/to/file.py:function')")
    use_code_paths(code_paths(runtime_env))
    for ref in builder_references(space):
        try:
            _check_signature(ref, resolve_builder(ref))
        except BuilderError as e:
            raise SpaceError(space.source, f"params.{BUILDER}", str(e)) from None


def _check_signature(ref: str, builder: Callable[..., Any]) -> None:
    """A builder that cannot be called as `builder(config, in_shape, num_classes)` would fail every trial."""
    try:
        signature = inspect.signature(builder)
    except (TypeError, ValueError):  # some builtins and C callables have none: let the trials tell
        return
    try:
        signature.bind(None, None, None)
    except TypeError:
        raise BuilderError(f"builder {ref!r} takes {signature}; hpsearch calls it as "
                           "builder(config, in_shape, num_classes)") from None


def shipped_code(runtime_env: dict[str, Any], space: Space) -> dict[str, Any]:
    """`runtime_env` with each builder file the space names added to `py_modules` (Ray ships it to every node)."""
    files = [ref.rpartition(":")[0] for ref in builder_references(space) if is_file_reference(ref)]
    modules = list(runtime_env.get("py_modules") or [])
    new = [f for f in dict.fromkeys(files) if f not in modules]
    return {**runtime_env, "py_modules": modules + new} if new else runtime_env


def check_own_param(space: Space, p: Param) -> None:
    """A parameter that is not a knob: the user's own, allowed where only a custom model can read it."""
    path = f"params.{p.name}"
    near = difflib.get_close_matches(p.name, list(KNOBS), n=1, cutoff=0.85)
    if near:
        raise SpaceError(space.source, path, f"not a knob; did you mean {near[0]!r}? (a custom model's own "
                         "parameters must not look like hpsearch's knobs: rename it)")
    if not _only_with_open_family(space, p, {}):
        raise SpaceError(space.source, path, f"not a parameter the trainable understands; a parameter of your own "
                         f"must exist only when the family is one of {_open_families()} (family: const custom, or "
                         "when: {family: custom}); hpsearch's knobs: `hpsearch spaces show` and docs/spaces.md")


def _open_families() -> list[str]:
    return [name for name in MODELS.names() if MODELS.get(name).open_params]


def can_pick_custom(space: Space) -> bool:
    """Whether the space can pick a family that takes parameters of the user's own (`custom`)."""
    if "family" not in space.names:
        return bool(MODELS.get(KNOBS["family"].default).open_params)
    family = space.param("family")
    return any(family.can_take(name) for name in _open_families())


def _only_with_open_family(space: Space, p: Param, seen: dict[str, bool]) -> bool:
    """Whether `p` can exist only under a family that takes its own parameters (conditions followed up)."""
    if p.name in seen:
        return seen[p.name]
    family = space.param("family") if "family" in space.names else None
    opened: Callable[[Any], bool] = lambda v: isinstance(v, str) and v in _open_families()  # noqa: E731
    result = (isinstance(family, Constant) and opened(family.value)) or \
        (isinstance(family, Categorical) and all(opened(c) for c in family.choices))
    for c in p.conditions:
        if c.param == "family" and c.values and all(opened(v) for v in c.values):
            result = True
        elif c.param in space.names and _only_with_open_family(space, space.param(c.param), seen):
            result = True
    seen[p.name] = result
    return result

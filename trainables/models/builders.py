"""User model builders: a reference (`module:function`, `path/to/file.py:function`) -> the callable it names.

A builder is `builder(config, in_shape, num_classes) -> nn.Module`, where `config` is the trial's sampled
values (a dict). Its reference is the string a trial's config, checkpoints and bundles carry.

A callable given from Python is registered here under `module:qualname` (`register_builder`), so a
builder defined in a notebook (`__main__`) works too: the table of registered builders is shipped to
the trials with the data (`registered_builders` / `register_builders`), and a reference is looked up
in the table before it is imported.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import user_code

Builder = Callable[..., Any]

_REGISTERED: dict[str, Builder] = {}


class BuilderError(ValueError):
    """A builder reference that cannot be resolved, or a builder that failed or returned no nn.Module."""


def register_builder(builder: Builder) -> str:
    """Make a Python callable usable as a builder in this process (and in the trials it launches);
    returns the reference (`module:qualname`) that stands for it in configs.

    Example:
        >>> register_builder(my_net)  # doctest: +SKIP
        '__main__:my_net'
    """
    if not callable(builder):
        raise BuilderError(f"a builder must be callable, got {type(builder).__name__}")
    module = getattr(builder, "__module__", None) or "__main__"
    ref = f"{module}:{getattr(builder, '__qualname__', type(builder).__name__)}"
    _REGISTERED[ref] = builder
    return ref


def registered_builders() -> dict[str, Builder]:
    """The builders registered in this process (shipped to the trials: `register_builders`)."""
    return dict(_REGISTERED)


def register_builders(builders: Mapping[str, Builder] | None) -> None:
    """Register builders shipped from the driver (a trial's worker process)."""
    _REGISTERED.update(builders or {})


def reference_problem(ref: Any) -> str | None:
    """Why `ref` is not a well-formed builder reference, or None (the `builder` knob's check)."""
    if isinstance(ref, str) and ref in _REGISTERED:  # e.g. a notebook's lambda: `__main__:<lambda>`
        return None
    return user_code.reference_problem(ref)


def is_file_reference(ref: str) -> bool:
    return ref.rpartition(":")[0].endswith(".py")


def resolve_builder(ref: str) -> Builder:
    """The callable `ref` names: a registered one, else imported (module or file). Raises BuilderError."""
    if ref in _REGISTERED:
        return _REGISTERED[ref]
    return user_code.resolve_callable(ref, f"builder {ref!r}", BuilderError)


def code_paths(runtime_env: Mapping[str, Any]) -> list[str]:
    """The folders Ray's runtime_env puts on the workers' import path: `working_dir`, and the folder
    holding each local `py_modules` entry (a package folder or a .py file). Remote URIs are left out."""
    entries = [runtime_env["working_dir"]] if isinstance(runtime_env.get("working_dir"), str) else []
    dirs = [p for p in entries if "://" not in p]
    for entry in runtime_env.get("py_modules") or []:
        if isinstance(entry, str) and "://" not in entry and not entry.endswith(".whl"):
            dirs.append(str(Path(entry).expanduser().resolve().parent))
    return dirs


def use_code_paths(paths: Iterable[str]) -> None:
    """Add the existing `paths` to this process's import path (once each, last: what is installed, or
    shipped to a worker by Ray, comes first): the driver and the analysis import the user's code from where
    the workers get it."""
    for p in [str(Path(p).expanduser().resolve()) for p in paths]:
        if Path(p).is_dir() and p not in sys.path:
            sys.path.append(p)
            importlib.invalidate_caches()  # the finders cache folder listings

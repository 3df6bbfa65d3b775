"""User code named in a config: `package.module:function`, or `path/to/file.py:function`."""
from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def resolve_callable(ref: str, what: str) -> Callable[..., Any]:
    """The function `ref` names; ValueError naming `what`, the reference and the problem.

    A relative file path is taken from the current working directory.
    """
    module_ref, sep, attr = ref.rpartition(":")
    if not sep or not module_ref or not attr:
        raise ValueError(f"{what} = {ref!r}: 'module:function' or 'path/to/file.py:function'")
    try:
        module = _load_file(Path(module_ref)) if module_ref.endswith(".py") else importlib.import_module(module_ref)
    except (ImportError, OSError) as e:
        raise ValueError(f"{what} = {ref!r}: cannot import {module_ref} ({type(e).__name__}: {e})") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ValueError(f"{what} = {ref!r}: {module_ref} has no function {attr!r}")
    return fn


def _load_file(path: Path) -> Any:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no file {path}")
    name = f"hpsearch_user_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None  # a .py file always has a source loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pickle (and Ray) find the module's classes by name
    spec.loader.exec_module(module)
    return module

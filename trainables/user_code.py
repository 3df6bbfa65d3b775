"""User code a config names: `package.module:function` or `path/to/file.py:function` (a dotted attribute,
`Class.method`, too). The one place hpsearch imports it, for dataset loaders and model builders alike."""
from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

FORMS = "'module:function' or 'path/to/file.py:function'"
_FILE_MODULES: dict[str, ModuleType] = {}  # resolved file path -> its module: each file runs once per process


def reference_problem(ref: Any) -> str | None:
    """Why `ref` is not a well-formed reference, or None."""
    if not isinstance(ref, str):
        return f"{ref!r} is not a reference ({FORMS})"
    where, sep, attr = ref.rpartition(":")
    if not sep or not where or not all(part.isidentifier() for part in attr.split(".")):
        return f"{ref!r} is not a reference ({FORMS})"
    return None


def resolve_callable(ref: str, label: str, error: type[ValueError] = ValueError) -> Callable[..., Any]:
    """The callable `ref` names, imported from its module or file. Otherwise raises `error` with a message
    that starts with `label` (how it names the setting, e.g. "builder 'nets.py:build'") and says why.

    A relative file path is taken from the current working directory.
    """
    problem = reference_problem(ref)
    if problem:
        raise error(f"{label}: {problem}")
    where, _, attr = ref.rpartition(":")
    obj: Any = _load(where, label, error)
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise error(f"{label}: {where!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise error(f"{label}: {attr!r} is a {type(obj).__name__}, not a callable")
    return obj


def _load(where: str, label: str, error: type[ValueError]) -> ModuleType:
    """The module `where` names. A file that is not here is imported by its name: that is how Ray's
    runtime_env `py_modules` ships it to a node."""
    name = where
    try:
        if where.endswith(".py"):
            file = Path(where).expanduser()
            if file.is_file():
                return _file_module(file.resolve())
            name = file.stem
        return importlib.import_module(name)
    except Exception as e:  # noqa: BLE001 - an import error, or anything the user's module raises when it runs
        hint = ("; it must be importable where the trial runs (installed, or shipped with cluster.runtime_env)"
                if isinstance(e, ImportError) else "")
        raise error(f"{label}: cannot import module {name!r} ({type(e).__name__}: {e}){hint}") from e


def _file_module(path: Path) -> ModuleType:
    key = str(path)
    if key not in _FILE_MODULES:
        name = f"hpsearch_user_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None  # a .py file always has a source loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # pickle and dataclasses look a class's module up by name
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)  # a half-run module must not be found by name; the next use runs it again
            raise
        _FILE_MODULES[key] = module
    return _FILE_MODULES[key]

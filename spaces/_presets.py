"""Preset spaces shipped as YAML files next to this module."""
from __future__ import annotations

from pathlib import Path

from ._errors import SpaceError
from ._parse import load_space
from ._space import Space

PRESET_DIR = Path(__file__).parent / "presets"


def list_presets() -> list[str]:
    """Names of the shipped presets, e.g. ['cnn', 'full', 'lenet5', 'mlp', 'transfer']."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    path = PRESET_DIR / f"{name}.yaml"
    if not path.is_file():
        raise SpaceError("<preset>", name, f"unknown preset; available: {list_presets()}")
    return path


def get_preset(name: str) -> Space:
    """Load a shipped preset by name."""
    return load_space(preset_path(name))


def resolve_space(ref: str, base_dir: str | Path = ".") -> Space:
    """A preset name, or a path (relative to `base_dir`) to a space file."""
    if ref in list_presets():
        return get_preset(ref)
    path = Path(ref) if Path(ref).is_absolute() else Path(base_dir) / ref
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_space(path)
    raise SpaceError("<experiment>", "space", f"{ref!r} is neither a preset ({list_presets()}) nor an existing file")

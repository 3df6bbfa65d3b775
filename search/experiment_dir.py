"""The on-disk layout of an experiment, shared by search and analysis.

<storage>/<name>/
    hpsearch.yaml     the resolved experiment config (after --set)
    space.yaml        the resolved search space (as given)
    <trial dirs>      Ray Tune's per-trial folders (params.json, result.json, checkpoints)
    experiment_state-*.json, searcher-state-*.pkl, tuner.pkl   Ray Tune's restore state
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from spaces import Space

CONFIG_FILE = "hpsearch.yaml"
SPACE_FILE = "space.yaml"


def is_uri(storage: str) -> bool:
    return "://" in storage


def experiment_path(storage: str, name: str) -> str:
    if is_uri(storage):
        return storage.rstrip("/") + "/" + name
    return str(Path(storage).expanduser().resolve() / name)


def check_writable(storage: str) -> str | None:
    """Why results cannot be written to `storage`, or None. Local folders are created if missing."""
    if is_uri(storage):
        try:
            import pyarrow.fs

            fs, path = pyarrow.fs.FileSystem.from_uri(storage)
            fs.create_dir(path, recursive=True)
            probe = path.rstrip("/") + "/.hpsearch-write-test"
            with fs.open_output_stream(probe) as f:
                f.write(b"ok")
            fs.delete_file(probe)
        except Exception as e:  # noqa: BLE001 - any failure means "not writable"
            return f"{type(e).__name__}: {e}"
        return None
    path = Path(storage).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        return str(e)
    if not os.access(path, os.W_OK):
        return f"{path} is not writable"
    return None


def save_experiment_files(exp_path: str, config: dict[str, Any], space: Space) -> None:
    files = {CONFIG_FILE: yaml.safe_dump(config, sort_keys=False), SPACE_FILE: yaml.safe_dump(space.raw, sort_keys=False)}
    if is_uri(exp_path):
        import pyarrow.fs

        fs, path = pyarrow.fs.FileSystem.from_uri(exp_path)
        fs.create_dir(path, recursive=True)
        for name, text in files.items():
            with fs.open_output_stream(f"{path}/{name}") as f:
                f.write(text.encode())
        return
    Path(exp_path).mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (Path(exp_path) / name).write_text(text)


def read_config_dict(exp_path: str | Path) -> dict[str, Any]:
    return yaml.safe_load((Path(exp_path) / CONFIG_FILE).read_text())


def read_results(path: str | Path) -> list[dict[str, Any]]:
    """Rows of a Ray `result.json` (JSON lines); a line cut off by a crash is ignored."""
    path = Path(path)
    rows: list[dict[str, Any]] = []
    if not path.is_file():
        return rows
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows

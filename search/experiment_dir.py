"""Writing an experiment folder: its place, the files saved at launch, the run log.

The layout (file names, how to read them) is defined in `analysis.layout`; this module only writes.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from analysis.layout import CONFIG_FILE, RUN_LOG, SPACE_FILE, is_uri, read_config_dict, read_results  # noqa: F401
from spaces import Space


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
    _write(exp_path, {CONFIG_FILE: yaml.safe_dump(config, sort_keys=False),
                      SPACE_FILE: yaml.safe_dump(space.raw, sort_keys=False)})


def append_run_log(exp_path: str, line: str) -> None:
    """Add one line (`analysis.run_log.event_line`) to the experiment's run log."""
    if not is_uri(exp_path):
        Path(exp_path).mkdir(parents=True, exist_ok=True)
        with open(Path(exp_path) / RUN_LOG, "a") as f:
            f.write(line)
        return
    import pyarrow.fs  # object stores cannot append: rewrite the (small) file

    fs, path = pyarrow.fs.FileSystem.from_uri(exp_path)
    try:
        with fs.open_input_stream(f"{path}/{RUN_LOG}") as f:
            old = f.read().decode()
    except (FileNotFoundError, OSError):
        old = ""
    _write(exp_path, {RUN_LOG: old + line})


def _write(exp_path: str, files: dict[str, str]) -> None:
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

"""Trial state <-> checkpoint folder. Loaded with `weights_only=True`: a checkpoint is never unpickled."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch

STATE_FILE = "state.pt"
log = logging.getLogger("hpsearch")


def save_state(state: dict[str, Any], folder: str | Path) -> None:
    torch.save(state, Path(folder) / STATE_FILE)


def load_state(folder: str | Path) -> dict[str, Any] | None:
    """The saved state, or None (with a warning) if the checkpoint is missing or damaged."""
    path = Path(folder) / STATE_FILE
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any damage means "start this trial from scratch"
        log.warning("checkpoint %s is unreadable (%s: %s); the trial restarts from scratch", path, type(e).__name__, e)
        return None

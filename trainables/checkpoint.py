"""A trial's checkpoint: `TrialState`, written and read here only.

Saved with `torch.save` as plain tensors, numbers and lists, and loaded with `weights_only=True`:
a checkpoint is never unpickled. `trained_model` rebuilds a trained model from a config and its
weights without ever looking for the backbone's original pretrained weights.
"""
from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .models import MODELS, build_model
from .preprocess import Normalisation
from .trial_config import parse_trial_config

STATE_FILE = "state.pt"
log = logging.getLogger("hpsearch")


@dataclass
class RngState:
    """Every random stream a trial draws from, so a resumed trial continues exactly."""

    generator: torch.Tensor              # the trial's own CPU generator (shuffling, augmentation)
    cpu: torch.Tensor                    # torch's global CPU generator (dropout on the CPU)
    cuda: list[torch.Tensor]             # torch's per-GPU generators (dropout on a GPU); [] when CUDA is unused

    @classmethod
    def capture(cls, generator: torch.Generator) -> RngState:
        # CUDA not initialised: nothing was drawn there, and capturing would create a context for nothing
        used_cuda = torch.cuda.is_available() and torch.cuda.is_initialized()
        return cls(generator.get_state(), torch.get_rng_state(), torch.cuda.get_rng_state_all() if used_cuda else [])

    def restore(self, generator: torch.Generator) -> None:
        """Put every stream back; GPU streams only where this process has the GPUs they came from."""
        generator.set_state(self.generator)
        torch.set_rng_state(self.cpu)
        visible = torch.cuda.device_count() if torch.cuda.is_available() else 0
        for device, state in enumerate(self.cuda[:visible]):
            torch.cuda.set_rng_state(state, device)
        if len(self.cuda) > visible:
            log.warning("checkpoint holds %d GPU random states, this process sees %d GPU(s): the others are not "
                        "restored, so GPU-side randomness differs from an uninterrupted run", len(self.cuda), visible)


@dataclass
class TrialState:
    """Everything needed to continue a trial at the epoch after `epoch`, or to use its model."""

    config: dict[str, Any]
    epoch: int
    model: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    schedule: dict[str, Any]
    best_val_loss: float
    bad_epochs: int
    rng: RngState
    preprocess: Normalisation | None     # None only in checkpoints written before preprocessing was stored
    stage: int = 0                       # staged trials (trainables.stages): the stage `epoch` counts within

    def to_dict(self) -> dict[str, Any]:
        return {"config": dict(self.config), "epoch": self.epoch, "model": self.model, "optimizer": self.optimizer,
                "schedule": self.schedule, "best_val_loss": self.best_val_loss, "bad_epochs": self.bad_epochs,
                "rng": {"generator": self.rng.generator, "torch": self.rng.cpu, "cuda": list(self.rng.cuda)},
                "preprocess": self.preprocess.to_dict() if self.preprocess else None, "stage": self.stage}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrialState:
        rng, pre = d["rng"], d.get("preprocess")
        return cls(dict(d["config"]), int(d["epoch"]), d["model"], d["optimizer"], d["schedule"],
                   float(d["best_val_loss"]), int(d["bad_epochs"]),
                   RngState(rng["generator"], rng["torch"], list(rng.get("cuda", []))),
                   Normalisation.from_dict(pre) if pre else None, int(d.get("stage", 0)))


def save_state(state: TrialState, folder: str | Path) -> None:
    torch.save(state.to_dict(), Path(folder) / STATE_FILE)


def load_state(folder: Any) -> TrialState | None:
    """The saved state, or None (with a warning) if the checkpoint is missing or damaged.

    `folder`: a path, or a folder in object storage (`analysis.location.RemotePath`, read whole).
    """
    path = Path(folder) / STATE_FILE if isinstance(folder, (str, Path)) else folder / STATE_FILE
    try:
        data = io.BytesIO(path.read_bytes())
        return TrialState.from_dict(torch.load(data, map_location="cpu", weights_only=True))
    except Exception as e:  # noqa: BLE001 - any damage means "start this trial from scratch"
        log.warning("checkpoint %s is unreadable (%s: %s); the trial restarts from scratch", path, type(e).__name__, e)
        return None


def trained_model(config: dict[str, Any], in_shape: tuple[int, int, int], num_classes: int,
                  weights: Mapping[str, torch.Tensor]) -> nn.Module:
    """The model of `config` with `weights` loaded, in eval mode.

    Every weight is in `weights`, so a pretrained backbone is built with `pretrained: False`: loading
    a trained model never needs (or looks for) the backbone's original pretrained weights.
    """
    model = untrained_model(config, in_shape, num_classes)
    model.load_state_dict(weights)
    return model.eval()


def untrained_model(config: dict[str, Any], in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """The model of `config`, its weights as built (a pretrained backbone without its pretrained weights)."""
    family = MODELS.get(parse_trial_config(config).model.name)
    uses_pretrained = getattr(family, "uses_weights", False)
    return build_model({**config, "pretrained": False} if uses_pretrained else config, in_shape, num_classes)

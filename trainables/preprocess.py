"""A trial's input preprocessing, decided once (`normalisation_for`) and then carried with the model.

The decision is made when a trial builds its model; the result is stored in every checkpoint
(`trainables.checkpoint.TrialState.preprocess`) and in every bundle, and readers use what was
stored. Re-deriving it elsewhere is how evaluation once used the dataset's statistics for a
backbone trained on its pretrained ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .augment import augment


@dataclass(frozen=True)
class Normalisation:
    """Per-channel mean/std, in [0, 1] units, subtracted and divided after scaling uint8 by 1/255."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": [float(m) for m in self.mean], "std": [float(s) for s in self.std]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Normalisation:
        return cls(tuple(float(m) for m in d["mean"]), tuple(float(s) for s in d["std"]))

    def module(self) -> Preprocess:
        """The preprocessing module of these statistics (on the CPU)."""
        return Preprocess(self.mean, self.std)


def normalisation_for(model: nn.Module, data_mean: tuple[float, ...], data_std: tuple[float, ...]) -> Normalisation:
    """The one place that decides a trial's normalisation: a backbone that brings its own
    (`data_mean`/`data_std`, e.g. a timm backbone's pretrained config) keeps it; others use the dataset's."""
    return Normalisation(tuple(getattr(model, "data_mean", data_mean)), tuple(getattr(model, "data_std", data_std)))


class Preprocess(nn.Module):
    """uint8 -> float in [0, 1] -> (augment when training) -> normalised."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.stats = Normalisation(tuple(float(m) for m in mean), tuple(float(s) for s in std))
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor, strengths: dict[str, float] | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        x = x.to(self.mean.device, non_blocking=True).float().div_(255)  # no-op when already there
        if strengths and generator is not None:
            x = augment(x, strengths, generator)
        return (x - self.mean) / self.std

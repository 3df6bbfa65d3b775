"""Test-time augmentation: average the predictions for an image and its left-right mirror.

On by default for a trial that trained with horizontal flips (`aug_hflip` > 0), off otherwise: a
model that never saw mirrored images is worse on them, so averaging them in costs accuracy (measured
on Fashion-MNIST: +0.2 points with flip training, -1.6 without; benchmarks/fidelity_rank.py).
"""
from __future__ import annotations

import torch
from torch import nn

from .trial_config import TrialConfig


def use_flip_tta(setting: bool | None, config: TrialConfig) -> bool:
    """Flip TTA for a trial: `setting` when given (the experiment's `search.tta`), else whether the
    trial trains with horizontal flips."""
    if setting is not None:
        return setting
    return dict(config.augment).get("hflip", 0.0) > 0


@torch.no_grad()
def flip_tta_logits(model: nn.Module, pre: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Log of the mean softmax over x and x mirrored left-right, for every image of x (uint8), in order.

    Why the mean of probabilities, not of logits: a confident view is not outvoted by a large-magnitude
    but uncertain one; the log keeps the result usable as logits (argmax, cross-entropy).
    """
    model.eval()
    out = []
    for i in range(0, len(x), batch_size):
        xb = pre(x[i:i + batch_size])
        p = model(xb).float().softmax(1) + model(xb.flip(3)).float().softmax(1)
        out.append((p / 2).log())
    return torch.cat(out)

"""A classifier of raw images: uint8 [N, C, H, W] in, class probabilities out, preprocessing inside.

One module serves a single model and an ensemble alike (the mean of its members' probabilities),
for `hpsearch predict`, for evaluating an ensemble and as the graph `hpsearch export` writes.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from trainables.preprocess import Normalisation


class RawImageClassifier(nn.Module):
    """Each member normalises the images as it was trained (its own mean/std), then the members' softmax
    outputs are averaged: probabilities, not logits, so a confident member is not outvoted by a large-magnitude
    but uncertain one (the same reasoning as `trainables.tta`)."""

    def __init__(self, members: list[tuple[nn.Module, Normalisation]], flip_tta: list[bool] | None = None) -> None:
        super().__init__()
        if not members:
            raise ValueError("a classifier needs at least one model")
        self.models = nn.ModuleList(m for m, _ in members)
        self.preprocess = nn.ModuleList(n.module() for _, n in members)
        # per member: also score the mirrored image and average (as the member was evaluated: trainables.tta)
        self.flip_tta = list(flip_tta) if flip_tta is not None else [False] * len(members)
        self.eval()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs = []
        for m, p, flip in zip(self.models, self.preprocess, self.flip_tta):
            q = torch.softmax(m(p(x)).float(), 1)
            probs.append((q + torch.softmax(m(p(torch.flip(x, dims=[-1]))).float(), 1)) / 2 if flip else q)
        return probs[0] if len(probs) == 1 else torch.stack(probs).mean(0)


@torch.inference_mode()
def probabilities(classifier: nn.Module, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Probabilities [N, classes] for uint8 images [N, C, H, W], on the CPU, in batches."""
    classifier.eval()
    t = torch.from_numpy(np.ascontiguousarray(x))
    return torch.cat([classifier(t[i:i + batch_size]) for i in range(0, len(t), batch_size)]).numpy()

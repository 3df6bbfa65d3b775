"""Loss functions by name. Every loss takes raw logits, so predictions are always argmax(logits)
and every loss agrees with its output (MSE/MSLE/KL compare softmax with one-hot targets)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .registry import Registry


@dataclass(frozen=True)
class LossConfig:
    """The loss knobs of a trial (defaults and ranges: `trainables.knobs.KNOBS`)."""

    name: str               # knob `loss`
    label_smoothing: float  # cross_entropy, kl_div
    focal_gamma: float      # focal


# (logits [B, K], targets [B], class_weights [K] | None, config) -> scalar loss
LossFn = Callable[[torch.Tensor, torch.Tensor, "torch.Tensor | None", LossConfig], torch.Tensor]
LOSSES: Registry[LossFn] = Registry("loss")


def _one_hot(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.one_hot(targets, logits.shape[1]).to(logits.dtype)


def _weighted_mean(per_sample: torch.Tensor, targets: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    if w is None:
        return per_sample.mean()
    sw = w[targets]
    return (per_sample * sw).sum() / sw.sum()


@LOSSES.register("cross_entropy")
def cross_entropy(logits, targets, w, cfg):
    return F.cross_entropy(logits, targets, weight=w, label_smoothing=cfg.label_smoothing)


@LOSSES.register("focal")
def focal(logits, targets, w, cfg):
    gamma = cfg.focal_gamma
    logp = F.log_softmax(logits.float(), 1).gather(1, targets[:, None]).squeeze(1)
    per = -((1 - logp.exp()) ** gamma) * logp
    return _weighted_mean(per, targets, w)


@LOSSES.register("mse")
def mse(logits, targets, w, cfg):
    per = ((F.softmax(logits.float(), 1) - _one_hot(logits.float(), targets)) ** 2).sum(1)
    return _weighted_mean(per, targets, w)


@LOSSES.register("msle")
def msle(logits, targets, w, cfg):
    p = F.softmax(logits.float(), 1)
    per = ((torch.log1p(p) - torch.log1p(_one_hot(p, targets))) ** 2).sum(1)
    return _weighted_mean(per, targets, w)


@LOSSES.register("hinge")
def hinge(logits, targets, w, cfg):
    return F.multi_margin_loss(logits, targets, weight=w)


@LOSSES.register("kl_div")
def kl_div(logits, targets, w, cfg):
    eps = cfg.label_smoothing
    k = logits.shape[1]
    target = _one_hot(logits.float(), targets) * (1 - eps) + eps / k
    per = F.kl_div(F.log_softmax(logits.float(), 1), target, reduction="none").sum(1)
    return _weighted_mean(per, targets, w)


def compute_loss(logits: torch.Tensor, targets: torch.Tensor, config: LossConfig,
                 class_weights: torch.Tensor | None = None) -> torch.Tensor:
    """`config.name` of logits against integer targets."""
    return LOSSES.get(config.name)(logits, targets, class_weights, config)

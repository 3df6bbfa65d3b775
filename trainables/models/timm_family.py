"""The `timm` family: any timm backbone (pretrained or not) plus a new dense head.

Knobs: `backbone` (a timm name), `pretrained`, `image_size` (0 = the backbone's default),
`head_dropout`, `head_hidden` (0 = no hidden layer), `head_activation`, and the fine-tuning
policy of `trainables.finetune` (`finetune`, `unfreeze_stages`, `backbone_lr_mult`,
`frozen_warmup_epochs`). Inputs keep their own channel count (timm adapts the first conv),
are resized inside `forward` (so on the GPU when there is one), and are normalised with the
backbone's pretrained mean/std, which the model exposes as `data_mean`/`data_std`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .. import finetune
from ..activations import make_activation
from . import MODELS, ModelFamily
from .pretrained import WeightSources, backbone_cfg, create_backbone


@dataclass(frozen=True)
class TimmConfig:
    """Knobs of the `timm` family (defaults and ranges: `trainables.knobs.KNOBS`)."""

    name: str
    backbone: str              # a timm model name, optionally with a pretrained tag
    pretrained: bool
    image_size: int            # 0: the backbone's pretrained resolution
    finetune: str              # linear_probe | full | last_k (trainables.finetune.POLICIES)
    unfreeze_stages: int       # last_k
    backbone_lr_mult: float
    frozen_warmup_epochs: int
    head_dropout: float
    head_hidden: int           # 0: no hidden layer
    head_activation: str


def _head(width: int, num_classes: int, cfg: TimmConfig) -> nn.Sequential:
    layers: list[nn.Module] = []
    drop, hidden = cfg.head_dropout, cfg.head_hidden
    if drop > 0:
        layers.append(nn.Dropout(drop))
    if hidden > 0:
        layers += [nn.Linear(width, hidden), make_activation(cfg.head_activation)]
        if drop > 0:
            layers.append(nn.Dropout(drop))
        width = hidden
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def _channel_stats(values: tuple[float, ...], channels: int) -> tuple[float, ...]:
    """Pretrained per-channel stats for `channels` inputs: as given for 3, their mean replicated otherwise
    (timm's in_chans adaptation sums/repeats the RGB filters, which assumes channels normalised alike)."""
    if len(values) == channels:
        return tuple(values)
    avg = sum(values) / len(values)
    return (avg,) * channels


class TimmClassifier(nn.Module):
    """backbone (pooled features) -> head; resizes inputs to `image_size`; applies a fine-tuning policy."""

    # set by `build` from the backbone's pretrained config; read with getattr (absent on a bare instance)
    data_mean: tuple[float, ...]
    data_std: tuple[float, ...]

    def __init__(self, backbone: nn.Module, head: nn.Module, image_size: tuple[int, int],
                 policy: str = "full", unfreeze_stages: int = 1, frozen_warmup_epochs: int = 0,
                 backbone_lr_mult: float = 1.0) -> None:
        super().__init__()
        self.backbone, self.head = backbone, head
        self.image_size = image_size
        self.stages = finetune.backbone_stages(backbone)
        self.trained_backbone = finetune.trainable_backbone_params(self.stages, policy, unfreeze_stages)
        self.frozen_warmup_epochs = frozen_warmup_epochs
        self.backbone_lr_mult = backbone_lr_mult
        self._frozen: list[nn.Module] = []
        self.begin_epoch(1)

    def begin_epoch(self, epoch: int) -> None:
        """Freeze per the policy; during the first `frozen_warmup_epochs` epochs the whole backbone."""
        names = set() if epoch <= self.frozen_warmup_epochs else self.trained_backbone
        self._frozen = finetune.set_trainable(self.backbone, names)
        self.train(self.training)

    def train(self, mode: bool = True) -> TimmClassifier:
        super().train(mode)
        for m in self._frozen:  # frozen batch norm keeps its pretrained running statistics
            m.eval()
        return self

    def param_groups(self, lr: float) -> list[dict[str, Any]]:
        """Optimizer groups: the head at `lr` first, then the trained backbone at `lr * backbone_lr_mult`."""
        groups = [{"params": list(self.head.parameters()), "lr": lr}]
        backbone = [p for n, p in self.backbone.named_parameters() if n in self.trained_backbone]
        if backbone:
            groups.append({"params": backbone, "lr": lr * self.backbone_lr_mult})
        return groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if tuple(x.shape[-2:]) != self.image_size:
            x = F.interpolate(x, size=self.image_size, mode="bilinear", align_corners=False)
        return self.head(self.backbone(x))


def build_timm(cfg: TimmConfig, in_shape: tuple[int, int, int], num_classes: int,
               weights: WeightSources | None = None) -> TimmClassifier:
    """A timm backbone for (C, H, W) inputs with a new `num_classes` head."""
    from timm.data import resolve_model_data_config

    channels = in_shape[0]
    default = backbone_cfg(cfg.backbone)
    size = cfg.image_size or (default.get("input_size") or (3, 224, 224))[-1]
    # fixed-size models (ViT/DeiT) are built for the chosen size; timm resamples position embeddings on load
    extra = {"img_size": size} if default.get("fixed_input_size") else {}
    backbone = create_backbone(cfg.backbone, cfg.pretrained, channels, weights, **extra)
    data_cfg = resolve_model_data_config(backbone)
    # head_hidden_size: the pooled width after a pre-logits layer (MobileNetV3's conv_head), else num_features
    width = getattr(backbone, "head_hidden_size", None) or backbone.num_features
    model = TimmClassifier(backbone, _head(width, num_classes, cfg), (size, size), cfg.finetune,
                           cfg.unfreeze_stages, cfg.frozen_warmup_epochs, cfg.backbone_lr_mult)
    model.data_mean = _channel_stats(tuple(data_cfg["mean"]), channels)
    model.data_std = _channel_stats(tuple(data_cfg["std"]), channels)
    return model


MODELS.register("timm", ModelFamily(TimmConfig, build_timm, uses_weights=True))

"""VGG-style CNN: blocks of convs (+BN) + pooling (+dropout), then a dense head."""
from __future__ import annotations

from typing import Any

from torch import nn

from ..activations import make_activation
from . import MODELS


def _block(c_in: int, c_out: int, convs: int, kernel: int, bn: bool, act: str, pool: str, dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for j in range(convs):
        layers.append(nn.Conv2d(c_in if j == 0 else c_out, c_out, kernel, padding=kernel // 2, bias=not bn))
        if bn:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(make_activation(act))
    layers.append(nn.MaxPool2d(2) if pool == "max" else nn.AvgPool2d(2))
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


@MODELS.register("cnn")
def build_cnn(cfg: dict[str, Any], in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """`conv_blocks` blocks of `convs_per_block` convs with `filters_i` filters, then
    `dense_layers` dense layers of `dense_units` (global average pooling if `global_pool`)."""
    c, h, w = in_shape
    act, bn = cfg.get("activation", "relu"), cfg.get("batch_norm", True)
    blocks = cfg.get("conv_blocks", 3)
    if min(h, w) >> blocks < 1:
        blocks = max(1, min(h, w).bit_length() - 1)  # never pool a feature map below 1x1
    layers: list[nn.Module] = []
    for i in range(1, blocks + 1):
        f = cfg.get(f"filters_{i}", 32 * 2 ** (i - 1))
        layers.append(_block(c, f, cfg.get("convs_per_block", 2), cfg.get("kernel_size", 3), bn, act,
                             cfg.get("pool", "max"), cfg.get(f"block_dropout_{i}", 0.0)))
        c, h, w = f, h // 2, w // 2
    if cfg.get("global_pool", False):
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        width = c
    else:
        layers.append(nn.Flatten())
        width = c * h * w
    for _ in range(cfg.get("dense_layers", 1)):
        units = cfg.get("dense_units", 128)
        layers += [nn.Linear(width, units)] + ([nn.BatchNorm1d(units)] if bn else []) + [make_activation(act)]
        if cfg.get("dense_dropout", 0.0) > 0:
            layers.append(nn.Dropout(cfg["dense_dropout"]))
        width = units
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)

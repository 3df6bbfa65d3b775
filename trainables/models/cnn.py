"""VGG-style CNN: blocks of convs (+BN) + pooling (+dropout), then a dense head."""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..activations import make_activation
from . import MODELS, ModelFamily


@dataclass(frozen=True)
class CNNConfig:
    """Knobs of the `cnn` family (defaults and ranges: `trainables.knobs.KNOBS`)."""

    name: str
    conv_blocks: int
    filters: tuple[int, ...]           # one per block
    block_dropout: tuple[float, ...]   # one per block
    convs_per_block: int
    kernel_size: int
    batch_norm: bool
    activation: str
    pool: str                          # max | avg
    global_pool: bool
    dense_layers: int
    dense_units: int
    dense_dropout: float


def _block(c_in: int, c_out: int, cfg: CNNConfig, dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    k, bn = cfg.kernel_size, cfg.batch_norm
    for j in range(cfg.convs_per_block):
        layers.append(nn.Conv2d(c_in if j == 0 else c_out, c_out, k, padding=k // 2, bias=not bn))
        if bn:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(make_activation(cfg.activation))
    layers.append(nn.MaxPool2d(2) if cfg.pool == "max" else nn.AvgPool2d(2))
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def _head(width: int, num_classes: int, cfg: CNNConfig) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for _ in range(cfg.dense_layers):
        layers += [nn.Linear(width, cfg.dense_units)] + ([nn.BatchNorm1d(cfg.dense_units)] if cfg.batch_norm else [])
        layers.append(make_activation(cfg.activation))
        if cfg.dense_dropout > 0:
            layers.append(nn.Dropout(cfg.dense_dropout))
        width = cfg.dense_units
    return layers + [nn.Linear(width, num_classes)]


def build_cnn(cfg: CNNConfig, in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """`conv_blocks` blocks of `convs_per_block` convs with `filters[i]` filters, then
    `dense_layers` dense layers of `dense_units` (global average pooling if `global_pool`)."""
    c, h, w = in_shape
    blocks = cfg.conv_blocks
    if min(h, w) >> blocks < 1:
        blocks = max(1, min(h, w).bit_length() - 1)  # never pool a feature map below 1x1
    layers: list[nn.Module] = []
    for f, dropout in zip(cfg.filters[:blocks], cfg.block_dropout):
        layers.append(_block(c, f, cfg, dropout))
        c, h, w = f, h // 2, w // 2
    if cfg.global_pool:
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        width = c
    else:
        layers.append(nn.Flatten())
        width = c * h * w
    return nn.Sequential(*layers, *_head(width, num_classes, cfg))


MODELS.register("cnn", ModelFamily(CNNConfig, build_cnn))

"""A small residual network for small images (28-32 px): stem, stages of basic blocks, global pooling.

In the spirit of the fastai course part 2 ResNet (notebook 14_augment), which reaches 93.4% on
Fashion-MNIST in 5 epochs with AdamW and a one-cycle schedule. Stage i has `width * 2**i` channels;
every stage after the first halves the resolution (28 -> 14 -> 7 -> 4).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..activations import make_activation
from . import MODELS, ModelFamily


def _conv_bn(c_in: int, c_out: int, stride: int = 1, kernel: int = 3) -> list[nn.Module]:
    # why no bias: the batch norm right after it has its own shift, a conv bias would be redundant
    return [nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False), nn.BatchNorm2d(c_out)]


class BasicBlock(nn.Module):
    """conv-BN-act-conv-BN plus a shortcut, then the activation (He et al. 2016)."""

    def __init__(self, c_in: int, c_out: int, stride: int, activation: str) -> None:
        super().__init__()
        # why stride on the first conv: the second conv then runs at the lower resolution (cheaper on a CPU)
        self.body = nn.Sequential(*_conv_bn(c_in, c_out, stride), make_activation(activation), *_conv_bn(c_out, c_out))
        # why zero-init the last BN scale: every block starts as the identity, so high one-cycle learning
        # rates are stable from the first step (Goyal et al. 2017, "Bag of tricks")
        last_bn = self.body[-1]
        assert isinstance(last_bn, nn.BatchNorm2d)  # _conv_bn always ends with the batch norm
        nn.init.zeros_(last_bn.weight)
        shortcut: list[nn.Module] = []
        if stride > 1:
            # why average pooling before a 1x1 conv, not a strided 1x1: no input pixel is skipped (ResNet-D)
            shortcut.append(nn.AvgPool2d(stride, ceil_mode=True, count_include_pad=False))
        if c_in != c_out:
            shortcut += _conv_bn(c_in, c_out, kernel=1)
        self.shortcut = nn.Sequential(*shortcut)
        self.act = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


def resnet(in_shape: tuple[int, int, int], num_classes: int, width: int = 32, stages: int = 3, blocks: int = 1,
           dropout: float = 0.0, activation: str = "relu") -> nn.Sequential:
    """A residual net: a 3x3 stem of `width` channels, `stages` stages of `blocks` basic blocks
    (stage i: `width * 2**i` channels, stride 2 from the second stage on), global average pooling,
    dropout and a linear head.

    Example:
        >>> resnet((1, 28, 28), 10, width=16, stages=3)(torch.zeros(2, 1, 28, 28)).shape
        torch.Size([2, 10])
    """
    c, h, w = in_shape
    if width < 1 or blocks < 1 or stages < 1:
        raise ValueError(f"resnet: width, stages and blocks must be >= 1, got {width}, {stages}, {blocks}")
    if min(h, w) < 2 ** (stages - 1):
        raise ValueError(f"resnet: {stages} stages halve {h}x{w} images {stages - 1} times, below 1 pixel; "
                         f"use at most {min(h, w).bit_length()} stages")
    # why a plain 3x3 stem at full resolution, no 7x7/stride-2 + max-pool: 28 px images have no pixels to spare
    layers: list[nn.Module] = [*_conv_bn(c, width), make_activation(activation)]
    c_in = width
    for i in range(stages):
        c_out = width * 2 ** i  # why doubling: each halving of resolution keeps the per-layer cost about equal
        for j in range(blocks):
            layers.append(BasicBlock(c_in, c_out, 2 if i > 0 and j == 0 else 1, activation))
            c_in = c_out
    # why global average pooling: the head's size does not depend on the image size, and it has few weights
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(c_in, num_classes))
    return nn.Sequential(*layers)


@dataclass(frozen=True)
class ResNetConfig:
    """Knobs of the `resnet` family (defaults and ranges: `trainables.knobs.KNOBS`)."""

    name: str
    resnet_width: int
    resnet_stages: int
    resnet_blocks: int
    head_dropout: float
    activation: str


def build_resnet(cfg: ResNetConfig, in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    """The `resnet` family: knobs `resnet_width`, `resnet_stages`, `resnet_blocks`, `head_dropout`, `activation`."""
    return resnet(in_shape, num_classes, cfg.resnet_width, cfg.resnet_stages, cfg.resnet_blocks, cfg.head_dropout,
                  cfg.activation)


MODELS.register("resnet", ModelFamily(ResNetConfig, build_resnet))


def macs_per_image(model: nn.Module, in_shape: tuple[int, int, int]) -> int:
    """Multiply-accumulates of one eval-mode forward pass on one image (torch's FLOP counter / 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, *in_shape, device=next(model.parameters()).device))
    model.train(was_training)
    return counter.get_total_flops() // 2

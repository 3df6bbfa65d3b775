"""LeNet-5 (LeCun et al., 1998), as our users build it: two 5x5 convs, dense 120-84."""
from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from ..activations import make_activation
from . import MODELS, ModelFamily


@dataclass(frozen=True)
class LeNetConfig:
    """Knobs of the `lenet5` family (defaults and ranges: `trainables.knobs.KNOBS`)."""

    name: str
    activation: str
    dense_dropout: float
    pool: str                # max | avg


class LeNet5(nn.Module):
    def __init__(self, in_shape: tuple[int, int, int], num_classes: int, activation: str = "relu",
                 dropout: float = 0.0, pool: str = "max") -> None:
        super().__init__()
        c, h, w = in_shape
        pool_cls = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
        self.features = nn.Sequential(
            nn.Conv2d(c, 6, 5, padding=2), make_activation(activation), pool_cls(2),
            nn.Conv2d(6, 16, 5), make_activation(activation), pool_cls(2),
        )
        fh, fw = (h // 2 - 4) // 2, (w // 2 - 4) // 2
        if fh < 1 or fw < 1:
            raise ValueError(f"LeNet-5 needs images of at least 12x12, got {h}x{w}")
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * fh * fw, 120), make_activation(activation), nn.Dropout(dropout),
            nn.Linear(120, 84), make_activation(activation), nn.Dropout(dropout),
            nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def build_lenet5(cfg: LeNetConfig, in_shape: tuple[int, int, int], num_classes: int) -> nn.Module:
    return LeNet5(in_shape, num_classes, cfg.activation, cfg.dense_dropout, cfg.pool)


MODELS.register("lenet5", ModelFamily(LeNetConfig, build_lenet5))

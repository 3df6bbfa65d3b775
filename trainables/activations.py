"""Activation functions by name."""
from __future__ import annotations

from torch import nn

from .registry import Registry

ACTIVATIONS: Registry[type[nn.Module]] = Registry("activation")
for _name, _cls in {
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "mish": nn.Mish,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "softplus": nn.Softplus,
    "hardswish": nn.Hardswish,
}.items():
    ACTIVATIONS.register(_name, _cls)


def make_activation(name: str) -> nn.Module:
    """A fresh activation module, e.g. `make_activation("elu")`."""
    return ACTIVATIONS.get(name)()

"""Batched data augmentation on float tensors in [0, 1], on whatever device the batch lives.

Each entry is `fn(x [B,C,H,W], strength, generator) -> x`, switched on by a config key
`aug_<name>` with a strength > 0 (a probability, a fraction of the image, or degrees); the typed
trial config holds the switched-on ones as `TrialConfig.augment`.
No per-image PIL work: every op is a handful of batched tensor operations.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from .registry import Registry

Augmentation = Callable[[torch.Tensor, float, torch.Generator], torch.Tensor]
AUGMENTATIONS: Registry[Augmentation] = Registry("augmentation")


def _uniform(n: int, lo: float, hi: float, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g, device=g.device).to(x.device) * (hi - lo) + lo


def _affine(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


@AUGMENTATIONS.register("hflip")
def hflip(x: torch.Tensor, p: float, g: torch.Generator) -> torch.Tensor:
    """Mirror left-right with probability p."""
    flip = _uniform(x.shape[0], 0, 1, x, g) < p
    return torch.where(flip[:, None, None, None], x.flip(3), x)


@AUGMENTATIONS.register("rotate")
def rotate(x: torch.Tensor, degrees: float, g: torch.Generator) -> torch.Tensor:
    """Rotate by a uniform angle in [-degrees, degrees]."""
    a = _uniform(x.shape[0], -degrees, degrees, x, g) * math.pi / 180
    cos, sin, zero = a.cos(), a.sin(), torch.zeros_like(a)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    return _affine(x, theta)


@AUGMENTATIONS.register("shift")
def shift(x: torch.Tensor, fraction: float, g: torch.Generator) -> torch.Tensor:
    """Translate by up to `fraction` of width/height in each direction."""
    n = x.shape[0]
    tx, ty = (_uniform(n, -2 * fraction, 2 * fraction, x, g) for _ in range(2))
    one, zero = torch.ones_like(tx), torch.zeros_like(tx)
    theta = torch.stack([torch.stack([one, zero, tx], 1), torch.stack([zero, one, ty], 1)], 1)
    return _affine(x, theta)


@AUGMENTATIONS.register("zoom")
def zoom(x: torch.Tensor, fraction: float, g: torch.Generator) -> torch.Tensor:
    """Scale by a factor in [1 - fraction, 1 + fraction]."""
    s = 1.0 / _uniform(x.shape[0], 1 - fraction, 1 + fraction, x, g)
    zero = torch.zeros_like(s)
    theta = torch.stack([torch.stack([s, zero, zero], 1), torch.stack([zero, s, zero], 1)], 1)
    return _affine(x, theta)


@AUGMENTATIONS.register("brightness")
def brightness(x: torch.Tensor, delta: float, g: torch.Generator) -> torch.Tensor:
    """Add a uniform offset in [-delta, delta]."""
    return (x + _uniform(x.shape[0], -delta, delta, x, g)[:, None, None, None]).clamp(0, 1)


@AUGMENTATIONS.register("contrast")
def contrast(x: torch.Tensor, delta: float, g: torch.Generator) -> torch.Tensor:
    """Scale deviations from each image's mean by a factor in [1 - delta, 1 + delta]."""
    f = _uniform(x.shape[0], 1 - delta, 1 + delta, x, g)[:, None, None, None]
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x - mean) * f + mean).clamp(0, 1)


@AUGMENTATIONS.register("crop")
def crop(x: torch.Tensor, pad: float, g: torch.Generator) -> torch.Tensor:
    """Zero-pad by `pad` pixels and crop back to size at a random offset."""
    p = max(1, int(round(pad)))
    b, c, h, w = x.shape
    xp = F.pad(x, (p, p, p, p))
    dy = torch.randint(0, 2 * p + 1, (b,), generator=g, device=g.device).to(x.device)
    dx = torch.randint(0, 2 * p + 1, (b,), generator=g, device=g.device).to(x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None].expand(b, c, h, w + 2 * p)
    xp = xp.gather(2, rows)
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :].expand(b, c, h, w)
    return xp.gather(3, cols)


@AUGMENTATIONS.register("erase")
def erase(x: torch.Tensor, p: float, g: torch.Generator) -> torch.Tensor:
    """With probability p, zero a random rectangle covering 2-25% of the image."""
    b, _, h, w = x.shape
    area = _uniform(b, 0.02, 0.25, x, g)
    ratio = torch.exp(_uniform(b, math.log(0.3), math.log(3.3), x, g))
    eh = (torch.sqrt(area * ratio) * h).clamp(1, h)
    ew = (torch.sqrt(area / ratio) * w).clamp(1, w)
    y0 = _uniform(b, 0, 1, x, g) * (h - eh)
    x0 = _uniform(b, 0, 1, x, g) * (w - ew)
    ys = torch.arange(h, device=x.device)[None, :]
    xs = torch.arange(w, device=x.device)[None, :]
    in_y = (ys >= y0[:, None]) & (ys < (y0 + eh)[:, None])
    in_x = (xs >= x0[:, None]) & (xs < (x0 + ew)[:, None])
    on = (_uniform(b, 0, 1, x, g) < p)[:, None, None]
    mask = (in_y[:, :, None] & in_x[:, None, :] & on)[:, None]
    return x.masked_fill(mask, 0.0)


def augment(x: torch.Tensor, strengths: dict[str, float], generator: torch.Generator) -> torch.Tensor:
    """Apply every switched-on augmentation to a float batch in [0, 1]."""
    for name, s in strengths.items():
        x = AUGMENTATIONS.get(name)(x, s, generator)
    return x

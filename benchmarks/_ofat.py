"""The one-factor-at-a-time grid of the hand-tuning notebooks: filters, then dropout, then optimizer,
then learning rate, then batch size; each stage keeps the best value found and moves on.

A factor is a name and a list of *patches* (partial configs) applied to the current best config.
Factors or values the space does not have are skipped, so the grid works for any preset.
"""
from __future__ import annotations

from typing import Any

from spaces import Space

Patch = dict[str, Any]


def _filters(space: Space) -> list[Patch]:
    # 2 or 3 blocks, doubling per block; widths the space does not offer are skipped
    widths = [(16, 32), (32, 64), (16, 32, 64), (32, 64, 128), (64, 128, 256)]
    return [{"conv_blocks": len(w), **{f"filters_{i + 1}": f for i, f in enumerate(w)}} for w in widths]


def _dropout(space: Space) -> list[Patch]:
    out = []
    for rate in (0.0, 0.25, 0.5):
        patch = {n: rate for n in space.names
                 if n.startswith(("block_dropout_", "mlp_dropout_")) or n == "dense_dropout"}
        out.append(patch)
    return out


def _optimizer(space: Space) -> list[Patch]:
    return [{"optimizer": o, **({"momentum": 0.9} if o in ("sgd", "rmsprop") else {})}
            for o in ("adam", "adamw", "nadam", "rmsprop", "sgd")]


FACTORS: dict[str, Any] = {
    "filters": _filters,
    "dropout": _dropout,
    "optimizer": _optimizer,
    "lr": lambda space: [{"lr": v} for v in (1e-4, 4e-4, 1e-3, 3e-3, 1e-2)],
    "batch_size": lambda space: [{"batch_size": v} for v in (32, 64, 128, 256)],
}


def stage_configs(space: Space, factor: str, best: dict[str, Any]) -> list[dict[str, Any]]:
    """The configs of one stage: `best` with each patch of `factor` applied, keeping only valid, new ones."""
    out: list[dict[str, Any]] = []
    for patch in FACTORS[factor](space):
        if not patch or any(k not in space.names or not space.param(k).can_take(v) for k, v in patch.items()):
            continue  # a factor (or value) this space does not have
        cfg = {**best, **patch}
        for k in range(1, int(cfg.get("conv_blocks", 0)) + 1):  # a new block inherits the last block's dropout
            cfg.setdefault(f"block_dropout_{k}", cfg.get(f"block_dropout_{k - 1}", 0.0))
        # drop what does not exist under the new values (momentum without sgd, a 3rd block's keys in 2 blocks)
        present = set(space.existing(cfg))
        cfg = {k: v for k, v in cfg.items() if k in present or k not in space.names}
        if cfg != best and cfg not in out:
            space.check_config({k: v for k, v in cfg.items() if k != "seed"}, f"ofat.{factor}")  # seed: not searched
            out.append(cfg)
    return out

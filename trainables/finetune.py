"""Fine-tuning policy for a pretrained backbone: which stages train, at what learning rate, from when.

Policies: `linear_probe` (backbone frozen, only the head trains), `full` (everything trains),
`last_k` (the last `unfreeze_stages` stages train). Stages are timm's coarse parameter groups
(`model.group_matcher(coarse=True)`): the stem, then one group per stage, in forward order.
Frozen parameters get requires_grad False and stay out of the optimizer; frozen modules are
kept in eval mode so batch-norm running statistics do not drift either.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from torch import nn

POLICIES = ("linear_probe", "full", "last_k")


def backbone_stages(backbone: nn.Module) -> list[list[str]]:
    """Parameter names of each stage of a timm backbone, stem first."""
    from timm.models import group_parameters

    # every timm model defines group_matcher; nn.Module's __getattr__ would type it as Tensor | Module
    group_matcher = cast("Callable[..., Any]", backbone.group_matcher)
    groups = [list(v) for _, v in sorted(group_parameters(backbone, group_matcher(coarse=True)).items())]
    params = dict(backbone.named_parameters())
    # a trailing group holding only norm weights/biases (e.g. ConvNeXt's head.norm) is not a stage of its own
    if len(groups) > 1 and all(params[n].dim() <= 1 for n in groups[-1]):
        groups[-2].extend(groups.pop())
    return groups


def trainable_backbone_params(stages: list[list[str]], policy: str, unfreeze_stages: int = 1) -> set[str]:
    """Names of backbone parameters the policy trains."""
    if policy not in POLICIES:
        raise ValueError(f"finetune {policy!r} is not one of {list(POLICIES)}")
    if policy == "linear_probe":
        return set()
    chosen = stages if policy == "full" else stages[len(stages) - max(0, unfreeze_stages):]
    return {n for stage in chosen for n in stage}


def set_trainable(backbone: nn.Module, names: set[str]) -> list[nn.Module]:
    """requires_grad True exactly for `names`; returns the modules whose own parameters are all frozen."""
    for n, p in backbone.named_parameters():
        p.requires_grad_(n in names)
    frozen = []
    for m in backbone.modules():
        own = list(m.parameters(recurse=False))
        if own and not any(p.requires_grad for p in own):
            frozen.append(m)
    return frozen

"""Before launch: which pretrained backbones of a space have no weights anywhere, so the user hears it once, up front.

Trials asking for such a backbone would fail (fast, as errored trials); the search still runs.
"""
from __future__ import annotations

from spaces import Categorical, Constant, Space
from trainables.models import WeightSources, WeightsUnavailable
from trainables.models.pretrained import backbone_cfg, env_offline, locate_weights


def _values(space: Space, name: str) -> list | None:
    for p in space.params:
        if p.name == name:
            return list(p.choices) if isinstance(p, Categorical) else [p.value] if isinstance(p, Constant) else None
    return None


def missing_weights(space: Space, files: dict[str, str]) -> list[str]:
    """One message per backbone of the space that may be pretrained and whose weights cannot be found."""
    backbones = _values(space, "backbone") or []
    if True not in (_values(space, "pretrained") or [True]):  # pretrained defaults to true
        return []
    sources = WeightSources(dict(files), offline=env_offline())
    problems = []
    for name in backbones:
        try:
            locate_weights(name, backbone_cfg(name), sources)
        except WeightsUnavailable as e:
            problems.append(str(e))
    return problems

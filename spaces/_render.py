"""Human-readable text of a resolved space (for `hpsearch spaces show`)."""
from __future__ import annotations

from ._space import Space


def render_space(space: Space) -> str:
    """One line per parameter in sampling order: name, domain, and when it exists."""
    width = max(len(n) for n in space.names)
    lines = [f"space {space.name!r} ({space.source})"]
    if space.description:
        lines.append(f"  {space.description}")
    lines.append(f"  {len(space.params)} parameters (per-block parameters expanded):")
    for p in space.params:
        cond = f"   when {' and '.join(str(c) for c in p.conditions)}" if p.conditions else ""
        lines.append(f"    {p.name:<{width}}  {p.describe()}{cond}")
    if space.warm_start:
        lines.append(f"  warm start: {len(space.warm_start)} configuration(s) evaluated first")
        for point in space.warm_start:
            lines.append("    - " + ", ".join(f"{k}={v}" for k, v in point.items()))
    return "\n".join(lines)

"""Check a space against the knobs the trainable understands, before anything launches."""
from __future__ import annotations

from spaces import Categorical, Constant, FloatRange, IntRange, Param, Space, SpaceError
from trainables.knobs import KNOBS, PER_BLOCK, RESERVED, knob_for


def check_space(space: Space) -> None:
    """Raise SpaceError naming the file and parameter for an unknown knob or a value it cannot take."""
    for p in space.params:
        path = f"params.{p.name}"
        if p.name in RESERVED:
            raise SpaceError(space.source, path, f"{p.name!r} is reserved (set per trial by the search)")
        knob = knob_for(p.name)
        if knob is None and (p.name in KNOBS or not _own_param_allowed(space, p)):
            raise SpaceError(space.source, path, f"not a parameter the trainable understands; known: "
                             f"{sorted(set(KNOBS) - PER_BLOCK)} (declared with per_block: {sorted(PER_BLOCK)})")
        if knob is None:
            continue  # a custom model's own parameter: its range is the space's
        counted_by = {c.param for c in p.conditions if c.at_least is not None}
        if knob.per_block and counted_by and knob.per_block not in counted_by:
            raise SpaceError(space.source, path, f"per_block must be {knob.per_block!r}: the model reads one "
                             f"value per {knob.per_block}, not per {', '.join(sorted(counted_by))}")
        if isinstance(p, Categorical):
            values = list(p.choices)
        elif isinstance(p, Constant):
            values = [p.value]
        elif isinstance(p, (IntRange, FloatRange)):
            values = [p.low, p.high]
        else:  # pragma: no cover
            values = []
        for v in values:
            problem = knob.problem(v)
            if problem:
                raise SpaceError(space.source, path, f"{problem} ({knob.help})")


def _own_param_allowed(space: Space, p: Param) -> bool:
    """True for a custom model's own parameter; raises SpaceError for one that looks like a typo of a knob
    or that could exist for a built-in family; False when the space cannot pick a custom model at all."""
    from .custom_model import can_pick_custom, check_own_param

    if not can_pick_custom(space):
        return False
    check_own_param(space, p)
    return True

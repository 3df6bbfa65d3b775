"""Check a space against the knobs the trainable understands, before anything launches."""
from __future__ import annotations

from spaces import Categorical, Constant, FloatRange, IntRange, Space, SpaceError
from trainables.knobs import KNOBS, RESERVED, knob_for


def check_space(space: Space) -> None:
    """Raise SpaceError naming the file and parameter for an unknown knob or a value it cannot take."""
    for p in space.params:
        path = f"params.{p.name}"
        if p.name in RESERVED:
            raise SpaceError(space.source, path, f"{p.name!r} is reserved (set per trial by the search)")
        knob = knob_for(p.name)
        if knob is None:
            raise SpaceError(space.source, path, f"not a parameter the trainable understands; known: {sorted(KNOBS)}"
                             " (per-block: mlp_units, mlp_dropout, filters, block_dropout)")
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

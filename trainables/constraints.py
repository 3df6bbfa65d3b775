"""Constraints on what a trial measures (`search.constraints`), e.g. `param_count <= 1e6`.

Pure data (no torch): the experiment config parses them, the trial checks them (the costs before it
trains a step, per-epoch metrics after each epoch), and the searcher tells Optuna how far each one
is from being met (`violation`: <= 0 when satisfied, as `optuna.trial.Trial.set_constraint` expects).
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .schema import CONSTRAINT_METRICS, COST_METRICS

OPS = ("<=", ">=")  # closed bounds only: Optuna counts a violation of exactly 0 as feasible
_EXPR = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|>=)\s*(\S+)\s*$")


class ConstraintError(ValueError):
    """A constraint expression that cannot be parsed, or names a metric no trial measures."""


@dataclass(frozen=True)
class Constraint:
    """`metric op bound`, e.g. Constraint("param_count", "<=", 1e6)."""

    metric: str
    op: str
    bound: float

    @property
    def before_training(self) -> bool:
        """Knowable before the first training step (a cost measured when the trial is built)."""
        return self.metric in COST_METRICS

    def violation(self, value: float) -> float:
        """How far `value` is past the bound: <= 0 when the constraint holds."""
        return value - self.bound if self.op == "<=" else self.bound - value

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.bound:g}"


def parse_constraint(text: str) -> Constraint:
    """Parse `metric <= number` or `metric >= number`; ConstraintError says what is wrong."""
    m = _EXPR.match(text) if isinstance(text, str) else None
    if m is None:
        raise ConstraintError("'METRIC <= NUMBER' or 'METRIC >= NUMBER' expected, e.g. 'param_count <= 1e6'")
    metric, op, number = m.groups()
    if metric not in CONSTRAINT_METRICS:
        raise ConstraintError(f"unknown metric {metric!r}; one of {sorted(CONSTRAINT_METRICS)}")
    try:
        bound = float(number)
    except ValueError:
        bound = math.nan
    if not math.isfinite(bound):
        raise ConstraintError(f"the bound {number!r} is not a finite number")
    return Constraint(metric, op, bound)


def violated(constraints: Iterable[Constraint], values: Mapping[str, object]) -> str | None:
    """The first constraint `values` break, with the value it had (e.g. 'param_count <= 1000 (was 2410)');
    None when all hold. A constraint whose metric is absent (or not a finite number) is not judged."""
    for c in constraints:
        v = values.get(c.metric)
        if isinstance(v, (int, float)) and math.isfinite(v) and c.violation(float(v)) > 0:
            return f"{c} (was {v:g})"
    return None

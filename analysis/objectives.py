"""What a search optimises (`search.objectives`) and what it must respect (`search.constraints`), validated.

`search.objectives` lists one or more metrics, each as a name (its natural direction) or as
`{metric: NAME, mode: max|min}`:

    objectives: [val_acc, inference_ms]                       # short form
    objectives: [{metric: val_acc, mode: max}, {metric: param_count, mode: min}]

The first objective is the primary one: ASHA stops trials on it, leaderboards rank by it, and it must
be a per-epoch metric (`trainables.schema.METRICS`); the others may also be costs measured once per
trial (param_count, inference_ms). Each mode must be the metric's natural direction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trainables.constraints import Constraint, ConstraintError, parse_constraint
from trainables.schema import METRICS, OBJECTIVE_METRICS


class ObjectiveError(ValueError):
    """A bad objective or constraint: the field (e.g. `search.objectives[1]`), its value, what is allowed."""

    def __init__(self, field_path: str, value: Any, allowed: str) -> None:
        self.field, self.value, self.allowed = field_path, value, allowed
        super().__init__(f"{field_path} = {value!r}: {allowed}")


@dataclass(frozen=True)
class Objective:
    metric: str
    mode: str  # "max" or "min"

    def to_dict(self) -> dict[str, str]:
        return {"metric": self.metric, "mode": self.mode}


def _objective(item: Any, where: str) -> Objective:
    if isinstance(item, dict):
        unknown = set(item) - {"metric", "mode"}
        if unknown or "metric" not in item:
            raise ObjectiveError(where, item, "a metric name, or a mapping {metric: NAME, mode: max|min}")
        metric, mode = item["metric"], item.get("mode")
    else:
        metric, mode = item, None
    if not isinstance(metric, str) or metric not in OBJECTIVE_METRICS:
        raise ObjectiveError(where, metric, f"one of {sorted(OBJECTIVE_METRICS)}")
    natural = OBJECTIVE_METRICS[metric]
    if mode is not None and mode != natural:
        raise ObjectiveError(f"{where}.mode", mode, f"'{natural}' for {metric} (or leave it out)")
    return Objective(metric, natural)


def parse_objectives(raw: list[Any], field_path: str = "search.objectives") -> list[Objective]:
    """The objectives in order (the first is primary); ObjectiveError names the bad entry."""
    objectives = [_objective(item, f"{field_path}[{i}]") for i, item in enumerate(raw)]
    if objectives and objectives[0].metric not in METRICS:
        raise ObjectiveError(f"{field_path}[0]", objectives[0].metric,
                             f"the first objective is what ASHA stops trials on: one of {sorted(METRICS)}")
    names = [o.metric for o in objectives]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ObjectiveError(f"{field_path}[{i}]", name, "each metric at most once")
    return objectives


def parse_constraints(raw: list[Any], field_path: str = "search.constraints") -> tuple[Constraint, ...]:
    """Each expression parsed (`param_count <= 1e6`); ObjectiveError names the bad one and why."""
    out = []
    for i, text in enumerate(raw):
        try:
            out.append(parse_constraint(text))
        except ConstraintError as e:
            raise ObjectiveError(f"{field_path}[{i}]", text, str(e)) from None
    return tuple(out)

"""A validated search space: parameters in sampling order, plus warm-start points."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._errors import SpaceError
from ._params import Constant, Param


@dataclass(frozen=True)
class Space:
    """Parameters in an order where every condition's parent comes first."""

    name: str
    params: tuple[Param, ...]
    warm_start: tuple[dict[str, Any], ...] = ()
    description: str = ""
    source: str = "<space>"
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _topological(self.params, self.source))

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def existing(self, config: dict[str, Any]) -> list[str]:
        """Names of the parameters that exist under `config` (conditions evaluated in order)."""
        present: dict[str, Any] = {}
        for p in self.params:
            if p.exists_in(present) and p.name in config:
                present[p.name] = config[p.name]
            elif p.exists_in(present) and isinstance(p, Constant):
                present[p.name] = p.value
        return [p.name for p in self.params if p.name in present]

    def check_config(self, config: dict[str, Any], path: str = "config") -> None:
        """Raise SpaceError unless every key of `config` is a parameter that exists and can take its value."""
        by_name = {p.name: p for p in self.params}
        for key, value in config.items():
            if key not in by_name:
                raise SpaceError(self.source, f"{path}.{key}", f"not a parameter of space {self.name!r}")
            p = by_name[key]
            if not p.can_take(value):
                raise SpaceError(self.source, f"{path}.{key}", f"value {value!r} is not {p.describe()}")
            if not p.exists_in(config):
                conds = " and ".join(str(c) for c in p.conditions)
                raise SpaceError(self.source, f"{path}.{key}", f"given, but its condition ({conds}) does not hold")


def _topological(params: tuple[Param, ...], source: str) -> tuple[Param, ...]:
    """Stable topological sort on condition parents; raises on cycles."""
    by_name = {p.name: p for p in params}
    order: list[Param] = []
    state: dict[str, str] = {}

    def visit(p: Param, chain: list[str]) -> None:
        if state.get(p.name) == "done":
            return
        if state.get(p.name) == "visiting":
            cycle = chain[chain.index(p.name):] + [p.name]
            raise SpaceError(source, f"params.{p.name}.when", f"conditions form a cycle: {' -> '.join(cycle)}")
        state[p.name] = "visiting"
        for c in p.conditions:
            visit(by_name[c.param], chain + [p.name])
        state[p.name] = "done"
        order.append(p)

    for p in params:
        visit(p, [])
    return tuple(order)

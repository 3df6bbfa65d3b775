"""Typed parameters of a search space: what may be sampled, and when it exists."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Condition:
    """A parameter exists only when `param` takes one of `values` (or is >= `at_least`)."""

    param: str
    values: tuple[Scalar, ...] | None = None
    at_least: int | None = None

    def holds(self, config: dict[str, Any]) -> bool:
        if self.param not in config:
            return False
        value = config[self.param]
        if self.at_least is not None:
            return value >= self.at_least
        return value in self.values  # type: ignore[operator]

    def __str__(self) -> str:
        if self.at_least is not None:
            return f"{self.param} >= {self.at_least}"
        return f"{self.param} in {list(self.values or ())}"


@dataclass(frozen=True)
class Param:
    """Base of every parameter kind; `conditions` must all hold for it to exist."""

    name: str
    conditions: tuple[Condition, ...] = field(default=(), kw_only=True)
    help: str = field(default="", kw_only=True)

    def exists_in(self, config: dict[str, Any]) -> bool:
        return all(c.holds(config) for c in self.conditions)

    def can_take(self, value: Any) -> bool:  # pragma: no cover - overridden
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass(frozen=True)
class Categorical(Param):
    choices: tuple[Scalar, ...] = ()

    def can_take(self, value: Any) -> bool:
        return any(value == c and type(value) is type(c) for c in self.choices) or (
            not isinstance(value, bool) and value in self.choices
        )

    def describe(self) -> str:
        return f"one of {list(self.choices)}"


@dataclass(frozen=True)
class IntRange(Param):
    low: int = 0
    high: int = 0
    step: int = 1
    log: bool = False

    def can_take(self, value: Any) -> bool:
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and self.low <= value <= self.high
            and (value - self.low) % self.step == 0
        )

    def describe(self) -> str:
        step = f" step {self.step}" if self.step != 1 else ""
        return f"int in [{self.low}, {self.high}]{step}{' (log)' if self.log else ''}"


@dataclass(frozen=True)
class FloatRange(Param):
    low: float = 0.0
    high: float = 0.0
    step: float | None = None
    log: bool = False

    def can_take(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return math.isfinite(value) and self.low <= value <= self.high

    def describe(self) -> str:
        step = f" step {self.step}" if self.step else ""
        return f"float in [{self.low:g}, {self.high:g}]{step}{' (log)' if self.log else ''}"


@dataclass(frozen=True)
class Constant(Param):
    value: Scalar = 0

    def can_take(self, value: Any) -> bool:
        return value == self.value

    def describe(self) -> str:
        return f"constant {self.value!r}"


PARAM_KINDS: dict[str, type[Param]] = {
    "categorical": Categorical,
    "int": IntRange,
    "float": FloatRange,
    "const": Constant,
}

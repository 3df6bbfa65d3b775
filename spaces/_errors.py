"""The one error type of `spaces`: file, parameter path, problem."""
from __future__ import annotations


class SpaceError(ValueError):
    """An invalid search space. `str()` reads `FILE: PATH: PROBLEM`."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        self.source = source
        self.path = path
        self.problem = problem
        super().__init__(f"{source}: {path}: {problem}")

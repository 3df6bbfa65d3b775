"""A SearchGenerator whose sample budget can be raised on resume (`hpsearch resume --num-samples`)."""
from __future__ import annotations

from typing import Any

from ray.tune.search import SearchGenerator


class ExtendableSearchGenerator(SearchGenerator):
    """After Ray restores the saved counters, `extend_to` (if set) replaces the total budget."""

    extend_to: int | None = None

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        if self.extend_to is not None and self.extend_to > self._total_samples:
            self._total_samples = self.extend_to
            self._finished = False

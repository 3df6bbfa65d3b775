"""A context manager that calls `sample()` every few tenths of a second in a background thread."""
from __future__ import annotations

import threading
from typing import Any


class BackgroundSampler:
    """Subclasses define `sample()`; `with Sampler() as s:` samples until the block ends."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every_s)

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

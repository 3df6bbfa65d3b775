"""Progress lines for long analysis steps (retraining, evaluation), on stderr so stdout stays data."""
from __future__ import annotations

import sys
from collections.abc import Callable

Progress = Callable[[str], None]


def stderr_progress(step: str) -> Progress:
    """A progress callback printing `step: message` lines to stderr."""
    def say(message: str) -> None:
        print(f"{step}: {message}", file=sys.stderr, flush=True)

    return say

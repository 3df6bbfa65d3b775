"""Live progress in a Jupyter notebook: one cell output, updated in place (no terminal escape codes).

Same snapshot and wording as the terminal view (`search.progress`); only the drawing differs: the
view and the latest trial endings go into one display, replaced at every refresh through IPython's
display handle.
"""
from __future__ import annotations

import html
import sys
import time
from typing import Any

from .progress import LiveProgress, clock, render_lines
from .status import ProgressSnapshot

MAX_EVENTS = 12  # trial endings kept in view; the whole history stays in the experiment folder


def in_notebook() -> bool:
    """True inside a Jupyter kernel (notebook, lab, VS Code, Colab), False in a terminal IPython or plain Python."""
    if "IPython" not in sys.modules:  # never import IPython just to ask
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class NotebookProgress(LiveProgress):
    """Ray Tune callback drawing the progress view into one updating cell output, every `refresh_s`."""

    def __init__(self, metric: str, mode: str, num_samples: int, max_epochs: int,
                 time_budget_s: float | None = None, every_s: float = 30.0, refresh_s: float = 1.0,
                 epoch_limit_s: float | None = None, used_before_s: float = 0.0) -> None:
        super().__init__(metric, mode, num_samples, max_epochs, time_budget_s, every_s=every_s, refresh_s=refresh_s,
                         tty=True, epoch_limit_s=epoch_limit_s, used_before_s=used_before_s)
        self.events: list[str] = []
        self.handle: Any = None

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state["handle"] = None  # a display handle belongs to this kernel session; Ray pickles the callback
        return state

    def _event(self, line: str, trials: list, ending: dict[str, str]) -> None:
        self.events = [*self.events, f"[{clock(time.time() - self.t0)}] {line}"][-MAX_EVENTS:]
        self._draw(self.snapshot(trials, ending))

    def _erase(self) -> None:
        """Nothing to erase: each draw replaces the whole output."""

    def _draw(self, snap: ProgressSnapshot, final: bool = False) -> None:
        from IPython.display import display

        self.last_draw = time.time()
        text = "\n".join([*self.events, *([""] if self.events else []), *render_lines(snap)])
        view = {"text/plain": text, "text/html": f"<pre style='margin:0'>{html.escape(text)}</pre>"}
        if self.handle is None:
            self.handle = display(view, raw=True, display_id=True)
        else:
            self.handle.update(view, raw=True)

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

    def __init__(self, *args: Any, refresh_s: float = 1.0, **kwargs: Any) -> None:
        super().__init__(*args, refresh_s=refresh_s, tty=True, **kwargs)
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

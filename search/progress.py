"""One-line progress from the driver: a line per finished trial, plus a periodic summary."""
from __future__ import annotations

import math
import sys
import time
from typing import Any, TextIO

from ray.tune import Callback

from trainables.metrics import EPOCH


class ProgressLines(Callback):
    """Prints `[elapsed] trial X ended ...` and `done/running/... best ...` lines (no escape codes)."""

    def __init__(self, metric: str, mode: str, num_samples: int, stream: TextIO | None = None,
                 every_s: float = 30.0) -> None:
        self.metric, self.mode, self.num_samples = metric, mode, num_samples
        self.stream = stream  # None: sys.stdout at print time (keeps the callback picklable)
        self.every_s = every_s
        self.t0 = time.time()
        self.last_print = 0.0
        self.best: tuple[float, str] | None = None
        self.epochs = 0

    def _elapsed(self) -> str:
        s = int(time.time() - self.t0)
        return f"{s // 3600:d}:{s // 60 % 60:02d}:{s % 60:02d}"

    def _better(self, v: float) -> bool:
        if self.best is None:
            return True
        return v > self.best[0] if self.mode == "max" else v < self.best[0]

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self.epochs += 1
        v = result.get(self.metric)
        if isinstance(v, (int, float)) and math.isfinite(v) and self._better(v):
            self.best = (float(v), trial.trial_id)
        if time.time() - self.last_print >= self.every_s:
            self._summary(trials)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        last = trial.last_result or {}
        v = last.get(self.metric)
        shown = f"{v:.4f}" if isinstance(v, (int, float)) else "-"
        self._print(f"trial {trial.trial_id} finished after {last.get(EPOCH, 0)} epoch(s): {self.metric}={shown}")
        self._summary(trials)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._print(f"trial {trial.trial_id} errored (see {trial.local_path}/error.txt)")
        self._summary(trials)

    def _summary(self, trials: list) -> None:
        counts: dict[str, int] = {}
        for t in trials:
            counts[t.status] = counts.get(t.status, 0) + 1
        best = f"best {self.metric}={self.best[0]:.4f} ({self.best[1]})" if self.best else "best -"
        self._print(f"trials {counts.get('TERMINATED', 0)} done, {counts.get('RUNNING', 0)} running, "
                    f"{counts.get('ERROR', 0)} errored, {counts.get('PENDING', 0)} pending of {self.num_samples} | "
                    f"{best} | {self.epochs} epochs")

    def _print(self, line: str) -> None:
        self.last_print = time.time()
        print(f"[{self._elapsed()}] {line}", file=self.stream or sys.stdout, flush=True)

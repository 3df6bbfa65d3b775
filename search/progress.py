"""Live progress from the driver: a refreshing view on a terminal, one-line summaries in a log.

The view is computed as plain data first (`search.status.ProgressSnapshot`), then rendered
(`search.progress_text`): `render_lines` for a terminal (redrawn in place with ANSI codes) and `render_line` for a plain
log (no escape codes). Tests assert on the snapshot and on the plain lines.
"""
from __future__ import annotations

import logging
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any, TextIO

from ray.tune import Callback

from analysis.outcome import describe_end, ended

from .progress_text import _best, _counts, clock, render_line, render_lines  # noqa: F401 (re-exported)
from .status import ProgressSnapshot, from_trials

# ANSI: move the cursor to the start of the line N lines up, and clear to the end of the screen
_UP = "\x1b[{n}F"
_CLEAR = "\x1b[J"
USE_EVERY_S = 5.0
# in a search of more than EVENT_EVERY_TRIALS trials, a trial's end redraws the view at most every EVENT_REDRAW_S:
# a redraw reads every trial, and a thousand-trial search of short trials ends several a second
# (benchmarks/scale.py); the trial's own line is always printed, and smaller searches redraw at every end
EVENT_REDRAW_S = 1.0
EVENT_EVERY_TRIALS = 200


def quiet_console() -> None:
    """Ray's and Optuna's own console output off: the view says it all (`--verbose` keeps them)."""
    import optuna

    # Ray's new console output prints a config table and result paths even at verbose=0; the old one does not
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    logging.getLogger("ray").setLevel(logging.ERROR)


class LiveProgress(Callback):
    """Ray Tune callback: redraws the view on a TTY (every `refresh_s`), else prints a line every `every_s`.

    Trial endings and errors are printed as their own lines in both modes.
    """

    def __init__(self, metric: str, mode: str, num_samples: int, max_epochs: int,
                 time_budget_s: float | None = None, stream: TextIO | None = None, every_s: float = 30.0,
                 refresh_s: float = 1.0, tty: bool | None = None, epoch_limit_s: float | None = None,
                 used_before_s: float = 0.0) -> None:
        self.metric, self.mode, self.num_samples, self.max_epochs = metric, mode, num_samples, max_epochs
        self.time_budget_s = time_budget_s
        self.epoch_limit_s = epoch_limit_s  # budget.max_epoch_seconds as resolved: named when a trial is too slow
        self._stream = stream  # None: sys.stdout at write time, so Ray can pickle the callback with the run
        self.tty = self.stream.isatty() if tty is None else tty
        self.every_s = refresh_s if self.tty else every_s
        self.t0 = time.time() - used_before_s  # a resumed search's clock goes on from the time already used
        self.last_draw = 0.0
        self.drawn = 0  # lines of the TTY view currently on screen
        self.lines: list[str] = []  # the TTY view as last rendered
        self.last_state: tuple = ()
        self.broken = False
        self.trials: list = []
        self._use: tuple = (None, None)  # the cluster's CPUs/GPUs in use, asked of Ray at most every USE_EVERY_S
        self._use_at = -math.inf

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stdout

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_stream"] = None  # a stream (or pytest's capture) cannot be pickled into tuner.pkl
        state["trials"] = []
        return state

    def snapshot(self, trials: list | None = None, ending: dict[str, str] | None = None) -> ProgressSnapshot:
        snap = from_trials(trials if trials is not None else self.trials, budget=self.num_samples,
                           metric=self.metric, mode=self.mode, max_epochs=self.max_epochs,
                           elapsed_s=time.time() - self.t0, time_budget_s=self.time_budget_s,
                           ending=ending)
        if time.monotonic() - self._use_at >= USE_EVERY_S:  # two calls to Ray's GCS: not for every trial's end
            self._use, self._use_at = _cluster_use(), time.monotonic()
        snap.cpus, snap.gpus = self._use
        return snap

    # --- Tune callback hooks: a failure in the view is reported once and never stops the search ---
    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        self.trials = trials
        if time.time() - self.last_draw >= self.every_s:
            self._safely(lambda: self._draw(self.snapshot(trials)))

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        self.trials = trials

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        last = trial.last_result or {}
        outcome = ended("TERMINATED", last, int(last.get("epoch", 0) or 0), self.max_epochs)
        line = f"trial {trial.trial_id} ended: {describe_end(outcome, last, self.metric, self.epoch_limit_s)}"
        self._safely(lambda: self._event(line, trials, {trial.trial_id: "TERMINATED"}))

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        line = f"trial {trial.trial_id} errored (see {trial.path}/error.txt)"
        self._safely(lambda: self._event(line, trials, {trial.trial_id: "ERROR"}))

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        self._use_at = -math.inf  # the last view shows the cluster as it is now
        self._safely(lambda: self._draw(self.snapshot(trials), final=True))

    def _safely(self, draw: Callable[[], None]) -> None:
        if self.broken:
            return
        try:
            draw()
        except Exception as e:  # noqa: BLE001 - hours of training matter more than the view
            self.broken = True
            print(f"hpsearch: progress view off after an internal error ({type(e).__name__}: {e}); "
                  "the search goes on", file=sys.stderr, flush=True)

    # --- drawing -------------------------------------------------------------------------------
    def _event(self, line: str, trials: list, ending: dict[str, str]) -> None:
        self._erase()
        print(f"[{clock(time.time() - self.t0)}] {line}", file=self.stream, flush=True)
        if len(trials) <= EVENT_EVERY_TRIALS or time.time() - self.last_draw >= EVENT_REDRAW_S:
            self._draw(self.snapshot(trials, ending))
        elif self.tty and self.lines:  # the view as last drawn, back under the new line
            self._show(self.lines)

    def _erase(self) -> None:
        if self.tty and self.drawn:
            self.stream.write(_UP.format(n=self.drawn) + _CLEAR)
            self.drawn = 0

    def _draw(self, snap: ProgressSnapshot, final: bool = False) -> None:
        self.last_draw = time.time()
        if not self.tty:
            state = (_counts(snap), _best(snap), snap.epochs)
            if final and state == self.last_state:
                return  # the last trial's ending already printed this
            self.last_state = state
            print(f"[{clock(snap.elapsed_s)}] {render_line(snap)}", file=self.stream, flush=True)
            return
        self._erase()
        self.lines = render_lines(snap)
        self._show(self.lines, final)

    def _show(self, lines: list[str], final: bool = False) -> None:
        self.stream.write("\n".join(lines) + "\n")
        self.stream.flush()
        self.drawn = 0 if final else len(lines)


def _cluster_use() -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """(in use, total) CPUs and GPUs of the Ray cluster, or None when unknown."""
    try:
        import ray

        total, free = ray.cluster_resources(), ray.available_resources()
    except Exception:  # noqa: BLE001 - the view must never break a search
        return None, None
    cpu = (total.get("CPU", 0) - free.get("CPU", 0), total.get("CPU", 0))
    gpu = (total.get("GPU", 0) - free.get("GPU", 0), total["GPU"]) if total.get("GPU") else None
    return cpu, gpu


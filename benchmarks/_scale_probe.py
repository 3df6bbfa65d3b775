"""What the scale benchmark measures while a search runs: when each trial completed, the driver's CPU and
memory over time, and the seconds spent inside chosen driver methods (instrumented in place, not mocked).
"""
from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ray.tune import Callback

from ._sampler import BackgroundSampler

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def driver_cpu_s() -> float:
    """User + system CPU seconds of this process (all its threads) so far, from /proc."""
    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14, 15 of stat)


def driver_rss_mib() -> float:
    """Resident memory of this process in MiB, from /proc."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * _PAGE / 2**20


class CompletionClock(Callback):
    """Ray Tune callback: the time (perf_counter) and id of every trial that ended, in order."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.ids: list[str] = []

    def _ended(self, trial: Any) -> None:
        self.times.append(time.perf_counter())
        self.ids.append(trial.trial_id)

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._ended(trial)

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._ended(trial)


class DriverSampler(BackgroundSampler):
    """Every `interval_s`: (seconds since start, trials completed, driver CPU seconds, driver RSS MiB)."""

    def __init__(self, clock: CompletionClock, interval_s: float = 1.0) -> None:
        super().__init__(interval_s)
        self.clock, self.t0, self.cpu0 = clock, time.perf_counter(), driver_cpu_s()
        self.rows: list[tuple[float, int, float, float]] = []

    def sample(self) -> None:
        self.rows.append((time.perf_counter() - self.t0, len(self.clock.times), driver_cpu_s() - self.cpu0,
                          driver_rss_mib()))


class MethodTimer:
    """Seconds spent in chosen methods of the driver, each call recorded with the trials completed by then."""

    def __init__(self, clock: CompletionClock) -> None:
        self.clock = clock
        self.calls: dict[str, list[tuple[int, float]]] = {}

    @contextmanager
    def patched(self, targets: dict[str, tuple[type, str]]) -> Iterator[None]:
        """Wrap `cls.method` for each `label: (cls, method)` while the block runs, then put it back."""
        originals = [(cls, name, cls.__dict__.get(name)) for cls, name in targets.values()]
        for label, (cls, name) in targets.items():
            setattr(cls, name, self._wrap(label, getattr(cls, name)))
        try:
            yield
        finally:
            for cls, name, original in reversed(originals):
                if original is None:  # the method was inherited: uncover the base class's again
                    delattr(cls, name)
                else:
                    setattr(cls, name, original)

    def _wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        calls = self.calls.setdefault(label, [])

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                calls.append((len(self.clock.times), time.perf_counter() - t0))
        return timed

    def summary(self, buckets: int = 10, total: int = 0) -> dict[str, Any]:
        """Per label: calls, total and mean seconds, and mean ms per call by study size (trials completed)."""
        out = {}
        for label, calls in self.calls.items():
            secs = [s for _, s in calls]
            out[label] = {"calls": len(calls), "total_s": sum(secs), "mean_ms": 1000 * sum(secs) / max(1, len(secs)),
                          "ms_by_trials_done": by_size(calls, buckets, total)}
        return out


def by_size(calls: Sequence[tuple[int, float]], buckets: int, total: int) -> list[dict[str, float]]:
    """Mean ms per call in `buckets` equal windows of trials completed (0..total)."""
    total = total or max((n for n, _ in calls), default=0) + 1
    width = max(1, -(-total // buckets))
    out = []
    for lo in range(0, total, width):
        inside = [s for n, s in calls if lo <= n < lo + width]
        if inside:
            out.append({"trials_done_from": lo, "trials_done_to": lo + width, "calls": len(inside),
                        "mean_ms": 1000 * sum(inside) / len(inside)})
    return out


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys against xs."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else float("nan")


def marginal_slot_s(times: Sequence[float], concurrency: int, skip: int) -> float:
    """Trial-slot seconds per additional trial: `concurrency` x the slope of completion time against completion
    number, fitted over the completions after the first `skip` (start-up and ramp-up left out)."""
    tail = sorted(times)[skip:]
    return concurrency * slope(range(len(tail)), tail)


def value_at(rows: Sequence[tuple[float, int, float, float]], completed: int, column: int) -> float:
    """A sampled column (2: CPU s, 3: RSS MiB) at the first sample with at least `completed` trials done."""
    for row in rows:
        if row[1] >= completed:
            return row[column]
    return rows[-1][column] if rows else float("nan")

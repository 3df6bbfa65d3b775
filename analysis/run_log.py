"""The run log (`runs.jsonl`): when a search was launched and resumed, and why each run ended.

One JSON object per line, appended by `search` at each launch, resume and end:
    {"event": "launch", "time": 1764750000.0, "num_samples": 8, "time_budget_s": 1800}
    {"event": "end", "time": 1764751813.2, "reason": "time budget reached"}
`hpsearch status`, `hpsearch resume` and reports read it back as it was: the clock of a search is the
sum of its runs, never a file's modification time.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .layout import RUN_LOG
from .location import Where, as_path

LAUNCH, RESUME, END = "launch", "resume", "end"
# why a run ended
ALL_DONE = "all trials finished"
TIME_BUDGET = "time budget reached"
INTERRUPTED = "interrupted"
FAILED = "failed"


def event_line(event: str, **fields: Any) -> str:
    """One line of the run log (with its newline), stamped with the current time."""
    return json.dumps({"event": event, "time": time.time(), **fields}) + "\n"


@dataclass
class Run:
    """One launch or resume: when it started, and when and why it ended (None: running, or killed)."""

    kind: str
    started: float
    num_samples: int | None = None
    time_budget_s: float | None = None
    ended: float | None = None
    reason: str | None = None


@dataclass
class RunLog:
    runs: list[Run]

    @property
    def last(self) -> Run | None:
        return self.runs[-1] if self.runs else None

    @property
    def finished_by_time_budget(self) -> bool:
        return self.last is not None and self.last.reason == TIME_BUDGET

    def used_s(self, report_times: Iterable[float] = (), now: float | None = None, running: bool = False) -> float:
        """Seconds the search has run, over all its runs.

        A run without an end record either runs now (counted to `now` when `running`) or was killed:
        it counts up to its last trial report (`report_times`), the last moment it is known to have worked.
        """
        times = sorted(t for t in report_times if t == t)
        total = 0.0
        for i, run in enumerate(self.runs):
            end = run.ended
            if end is None:
                until = self.runs[i + 1].started if i + 1 < len(self.runs) else float("inf")
                if running and i == len(self.runs) - 1:
                    end = now or time.time()
                else:
                    end = max([run.started] + [t for t in times if run.started <= t < until])
            total += max(0.0, end - run.started)
        return total


def read_run_log(exp: Where) -> RunLog:
    """The runs recorded in an experiment folder; empty for folders made before the run log existed."""
    path = as_path(exp) / RUN_LOG
    runs: list[Run] = []
    lines = path.read_text().splitlines() if path.is_file() else []
    for line in lines:
        try:
            e = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut off by a crash
        if e.get("event") in (LAUNCH, RESUME):
            runs.append(Run(e["event"], float(e["time"]), e.get("num_samples"), e.get("time_budget_s")))
        elif e.get("event") == END and runs and runs[-1].ended is None:
            runs[-1].ended, runs[-1].reason = float(e["time"]), e.get("reason")
    return RunLog(runs)

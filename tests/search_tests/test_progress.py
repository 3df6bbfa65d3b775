"""The live progress view: plain data first, then a TTY view or plain one-line summaries."""
from __future__ import annotations

import io
import re

import pytest

from analysis import load_experiment
from search.progress import LiveProgress, render_line, render_lines
from search.status import ProgressSnapshot

from .monitored import NUM_SAMPLES

SUMMARY = re.compile(r"(\d+)/(\d+) trials: (\d+) done, (\d+) running, (\d+) stopped early, (\d+) errored, "
                     r"(\d+) pending \| best val_acc=?([-\d.]+)(?: \(trial (\w+))?.*?\| (\d+) epochs")
ENDED = re.compile(r"trial (\w+) ended: ")


def _snapshot(**counts: int) -> ProgressSnapshot:
    return ProgressSnapshot(budget=8, metric="val_acc", mode="max", counts=counts, best=0.8125, best_trial="ab12",
                            best_params={"family": "cnn", "lr": 0.0031}, epochs=11, elapsed_s=125.0,
                            time_budget_s=600.0, cpus=(2.0, 4.0))


def test_render_line_is_plain_and_complete():
    line = render_line(_snapshot(done=2, running=2, **{"stopped early": 1}, pending=1))
    assert "\x1b" not in line and "\n" not in line
    assert line.startswith("6/8 trials: 2 done, 2 running, 1 stopped early, 0 errored, 1 pending")
    assert "best val_acc=0.8125 (trial ab12: family=cnn lr=0.0031)" in line
    assert "11 epochs" in line and "0:02:05 elapsed, 0:07:55 left of 0:10:00" in line and "CPU 2/4" in line


def test_tty_view_redraws_in_place():
    stream = io.StringIO()
    view = LiveProgress("val_acc", "max", 8, 4, stream=stream, tty=True)
    view._draw(_snapshot(running=2))
    first = stream.getvalue()
    assert "\x1b" not in first and first.count("\n") == len(render_lines(_snapshot(running=2)))
    view._draw(_snapshot(done=1, running=2))
    second = stream.getvalue()[len(first):]
    assert second.startswith(f"\x1b[{first.count(chr(10))}F\x1b[J")  # back over the old view, then clear it
    assert "3/8 trials: 1 done" in second


@pytest.mark.slow
def test_run_prints_periodic_summaries_that_match_disk(search):
    assert search.returncode == 0, search.output
    out = search.output
    assert "\x1b" not in out  # not a TTY: no escape codes
    # Ray's own tables and result-path lines are off without --verbose
    assert "Configuration for experiment" not in out and "View detailed results" not in out
    summaries, ended_so_far = [], set()
    for line in out.splitlines():
        if m := ENDED.search(line):
            ended_so_far.add(m.group(1))
        if m := SUMMARY.search(line):
            n, budget, done, running, stopped, errored, pending = map(int, m.groups()[:7])
            # counts add up to the trials that exist at that moment, never past the budget
            assert done + running + stopped + errored + pending == n <= budget == NUM_SAMPLES, line
            assert done + stopped + errored >= len(ended_so_far), line
            summaries.append(m)
    assert len(summaries) >= 3
    assert [int(m.group(1)) for m in summaries] == sorted(int(m.group(1)) for m in summaries)

    exp = load_experiment(search.path)
    trial_dirs = [d for d in search.path.iterdir() if (d / "params.json").is_file()]
    last = summaries[-1]
    assert int(last.group(1)) == len(trial_dirs) == len(exp.trials) == NUM_SAMPLES
    assert int(last.group(3)) + int(last.group(5)) == NUM_SAMPLES  # all done or stopped early
    best = exp.trials.loc[exp.trials["best_val_acc"].idxmax()]
    assert float(last.group(8)) == pytest.approx(best["best_val_acc"], abs=5e-5)
    assert last.group(9) == best["trial_id"]
    assert int(last.group(10)) == int(exp.trials["epochs"].sum())
    assert ended_so_far == set(exp.trials["trial_id"])


def test_a_broken_view_never_stops_the_search(capsys):
    class Closed(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("stream closed")

    view = LiveProgress("val_acc", "max", 8, 4, stream=Closed(), tty=False)
    view.on_experiment_end([])  # would raise into Ray Tune's loop without the guard
    view.on_experiment_end([])
    err = capsys.readouterr().err
    assert view.broken and err.count("progress view off after an internal error (OSError: stream closed)") == 1


@pytest.mark.parametrize("n", [20, 300])
def test_trial_endings_print_a_line_each_and_a_large_search_redraws_at_most_once_a_second(n):
    from types import SimpleNamespace

    from search.progress import EVENT_EVERY_TRIALS

    trials = [SimpleNamespace(trial_id=f"t{i}", status="RUNNING", config={"lr": 0.1},
                              last_result={"epoch": 1, "val_acc": 0.5 + i / 1000}) for i in range(n)]
    for tty in (False, True):
        stream = io.StringIO()
        view = LiveProgress("val_acc", "max", n, 2, stream=stream, tty=tty)
        for t in trials[:20]:  # twenty trials end within a fraction of a second
            view.on_trial_complete(0, trials, t)
        out = stream.getvalue()
        assert len(ENDED.findall(out)) == 20
        if n <= EVENT_EVERY_TRIALS:  # a small search: a summary after every ending
            assert out.count(f"{n}/{n} trials") == 20
            continue
        # a large one: the summary is computed once, at the first ending ("1 stopped early")
        assert "2 stopped early" not in out
        if tty:  # the view stays under the newest line: the last drawn view re-shown after each ending
            assert out.rstrip("\n").endswith(view.lines[-1]) and out.count(view.lines[0]) == 20
        else:
            assert out.count(f"{n}/{n} trials") == 1

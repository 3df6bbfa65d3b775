"""The real-compute benchmark's summary: per-arm medians and IQR, and hpsearch paired with each arm by seed."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.real_compute import read_log, summarise


def row(arm: str, seed: int, acc: float, budget: float = 600.0) -> dict:
    return {"arm": arm, "seed": seed, "budget_s": budget, "test_acc": acc, "wall_s": budget * 0.98}


def test_runs_logged_in_two_sessions_are_paired_by_seed(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    first = [row("hpsearch", 0, 0.930), row("warm_start", 0, 0.920), row("hpsearch", 1, 0.932)]
    later = [row("warm_start", 1, 0.925), row("warm_start", 2, 0.921), row("hpsearch", 0, 0.5, budget=1800),
             row("hpsearch", 1, 0.935)]  # a rerun of seed 1 (after a change to hpsearch) replaces the first
    log.write_text("".join(json.dumps(r) + "\n" for r in first))
    with log.open("a") as f:
        f.write("".join(json.dumps(r) + "\n" for r in later))
    summary, table = summarise(read_log(log))
    ten = summary["600"]
    assert ten["hpsearch"]["seeds"] == [0, 1] and ten["warm_start"]["seeds"] == [0, 1, 2]
    assert ten["warm_start"]["median"] == pytest.approx(0.921)
    paired = ten["warm_start"]["hpsearch_minus_this"]
    assert paired["seeds"] == [0, 1]  # seed 2 has no hpsearch run to pair with
    assert paired["differences"] == pytest.approx([0.010, 0.010]) and paired["wins"] == 2
    assert summary["1800"]["hpsearch"]["median"] == 0.5 and "warm_start" not in summary["1800"]
    assert "| 600 | warm_start | 3 |" in table and "+1.00 [" in table

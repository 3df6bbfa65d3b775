"""search_efficiency --merge: re-run one method, keep the others' runs from an earlier JSON with the same settings."""
from __future__ import annotations

import json
from argparse import Namespace
from pathlib import Path

import pytest

from benchmarks.search_efficiency import merge_runs

SETTINGS = {"budget_s": 600.0, "space": "s.yaml", "train_subset": None, "max_epochs": 8}


def args(**changes) -> Namespace:
    a = {"budget": 600.0, "space": "s.yaml", "train_subset": None, "max_epochs": 8, "methods": ["hpsearch"],
         "seeds": [0, 1], **changes}
    return Namespace(**a)


def earlier(tmp_path: Path) -> Path:
    runs = [{"method": m, "seed": s, "test_acc": 0.9} for m in ("hpsearch", "random", "ofat") for s in (0, 1, 2)]
    path = tmp_path / "search_efficiency.json"
    path.write_text(json.dumps({**SETTINGS, "runs": runs, "command": "cmd", "finished_utc": "t"}))
    return path


def test_merge_takes_the_other_methods_on_the_same_seeds(tmp_path):
    new = [{"method": "hpsearch", "seed": s, "test_acc": 0.95} for s in (0, 1)]
    runs, source = merge_runs(args(), new, earlier(tmp_path))
    assert sorted((r["method"], r["seed"]) for r in runs) == sorted(
        [("hpsearch", 0), ("hpsearch", 1), ("random", 0), ("random", 1), ("ofat", 0), ("ofat", 1)])
    assert [r["test_acc"] for r in runs if r["method"] == "hpsearch"] == [0.95, 0.95]  # the new runs, not the old
    assert source["methods"] == ["random", "ofat"] and source["command"] == "cmd"


@pytest.mark.parametrize("change", [{"budget": 300.0}, {"max_epochs": 4}, {"train_subset": 1000}])
def test_merge_refuses_runs_made_with_other_settings(tmp_path, change):
    with pytest.raises(SystemExit, match="other settings"):
        merge_runs(args(**change), [], earlier(tmp_path))

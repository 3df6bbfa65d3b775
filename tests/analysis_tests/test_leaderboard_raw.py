"""The leaderboard equals an independent computation from the raw per-trial result files."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from analysis import leaderboard, load_experiment

from .conftest import run_cli


def raw_ranking(exp_dir, metric="val_acc", by="best"):
    """Straight from trial_*/result.json: (trial_id, score, epochs, f1 at the scored epoch), best first,
    ties by epochs then id."""
    rows = []
    for f in sorted(exp_dir.glob("trial_*/result.json")):
        reports = [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
        reports = [r for r in reports if metric in r]
        if not reports:
            continue
        scored = max(reports, key=lambda r: r[metric]) if by == "best" else reports[-1]  # max: first of ties
        rows.append((reports[-1]["trial_id"], scored[metric], max(r["epoch"] for r in reports), scored["val_f1_macro"]))
    return sorted(rows, key=lambda r: (-r[1], r[2], r[0]))


@pytest.mark.slow
@pytest.mark.parametrize("by", ["best", "last"])
def test_leaderboard_equals_raw_results(finished_exp, by):
    board = leaderboard(load_experiment(finished_exp), by=by)
    expected = raw_ranking(finished_exp, by=by)
    assert len(expected) == 4
    assert list(board["trial_id"]) == [r[0] for r in expected]
    assert list(board["val_acc"]) == [r[1] for r in expected]
    assert list(board["epochs"]) == [r[2] for r in expected]
    if by == "best":  # the other columns come from the same (best) epoch
        assert list(board["val_f1_macro"]) == [r[3] for r in expected]
    assert list(board["rank"]) == [1, 2, 3, 4]


@pytest.mark.slow
def test_leaderboard_cli_csv_and_merge(finished_exp, errored_exp, tmp_path, capsys):
    csv, md = tmp_path / "lb.csv", tmp_path / "lb.md"
    assert run_cli("leaderboard", str(finished_exp), str(errored_exp), "--csv", str(csv), "--markdown", str(md)) == 0
    merged = pd.read_csv(csv, dtype={"trial_id": str})
    assert set(merged["experiment"]) == {"finished", "errored"}
    scored = merged.dropna(subset=["val_acc"])
    assert list(scored["val_acc"]) == sorted(scored["val_acc"], reverse=True)  # one ranking across both
    # errored trials have no score and sink to the bottom
    assert list(merged["ended"]).index("errored") >= len(scored)
    assert md.read_text().startswith("| rank | experiment | trial_id | val_acc")
    assert "experiment" in capsys.readouterr().out


@pytest.mark.slow
def test_leaderboard_filters(finished_exp):
    exp = load_experiment(finished_exp)
    full = leaderboard(exp)
    top2 = leaderboard(exp, top=2)
    assert list(top2["trial_id"]) == list(full["trial_id"][:2])
    completed = leaderboard(exp, ended="completed")
    assert set(completed["ended"]) == {"completed"}
    assert len(completed) == int((exp.trials["ended"] == "completed").sum())
    assert math.isfinite(full["val_acc"].iloc[0])


@pytest.mark.slow
def test_a_trial_abandoned_by_a_resume_is_left_out_and_its_folder_kept(finished_exp, tmp_path):
    """A trial whose folder exists but that Ray's saved state never recorded (the driver died first)."""
    import shutil

    from analysis.layout import abandon_unrecorded, read_trial_states, trial_dirs

    exp = tmp_path / "exp"
    shutil.copytree(finished_exp, exp)
    states = read_trial_states(exp)
    lost = sorted(states)[0]
    assert abandon_unrecorded(exp, set(states)) == set()  # every folder is recorded: nothing written
    assert not (exp / "abandoned_trials.json").exists()
    assert abandon_unrecorded(exp, set(states) - {lost}) == {lost}
    table = load_experiment(exp).trials
    assert lost not in set(table["trial_id"]) and len(table) == len(states) - 1
    assert lost in trial_dirs(exp) and trial_dirs(exp)[lost].is_dir()
    assert lost not in set(leaderboard(load_experiment(exp))["trial_id"])

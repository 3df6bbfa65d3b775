"""A real two-objective search with a constraint, on real Fashion-MNIST, with ASHA on.

One small search (a one-layer MLP, 16 or 1024 units; `param_count <= 100000` rules out the wide one)
shows: the Optuna study is multi-objective; a trial over the bound never trains a step and Optuna
records it as infeasible; the leaderboard's Pareto flags equal a computation straight from the trials'
result files; the report draws the Pareto front; `final --pick` retrains the rule's trial.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import optuna
import pytest
import yaml

from analysis import leaderboard, load_experiment
from analysis.report import build_report
from search.cli import main
from search.config import load_config
from search.launch import prepare, run_experiment
from search.study_storage import load_experiment_study

LIMIT = 100_000
SPACE = """
name: tiny_mlp
description: one hidden layer, narrow (12,730 parameters) or wide (814,090)
params:
  family: {type: const, value: mlp}
  mlp_layers: {type: const, value: 1}
  mlp_units_1: {type: categorical, choices: [16, 1024]}
  lr: {type: float, low: 1.0e-3, high: 1.0e-2, log: true}
warm_start:
  - {mlp_units_1: 1024, lr: 3.0e-3}
  - {mlp_units_1: 16, lr: 3.0e-3}
"""


@pytest.fixture(scope="module")
def searched(ray_session, fashion_dir, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("objectives")
    (tmp / "space.yaml").write_text(SPACE)
    cfg = {"name": "mo", "storage": str(tmp / "results"), "space": str(tmp / "space.yaml"),
           "dataset": {"name": "fashion_mnist", "data_dir": str(fashion_dir), "train_subset": 600,
                       "val_fraction": 0.2},
           "budget": {"num_samples": 5, "max_epochs": 2, "grace_period": 1, "reduction_factor": 2},
           "search": {"seed": 0, "objectives": ["val_acc", {"metric": "inference_ms", "mode": "min"}],
                      "constraints": [f"param_count <= {LIMIT}"]},
           "resources": {"cpus_per_trial": 1, "max_concurrent": 2}}
    (tmp / "mo.yaml").write_text(yaml.safe_dump(cfg))
    return Path(run_experiment(prepare(load_config(tmp / "mo.yaml"), tmp)))


def _results(path: Path) -> dict[str, list[dict]]:
    """Each trial's result rows, read from its result.json (not through analysis)."""
    out = {}
    for d in path.glob("trial_*"):
        lines = (d / "result.json").read_text().splitlines() if (d / "result.json").is_file() else []
        out[d.name.removeprefix("trial_")] = [json.loads(line) for line in lines if line.strip()]
    return out


def _front(points: dict[str, tuple[float, float]]) -> set[str]:
    """Pairwise: a point is on the front when no other has val_acc >= and inference_ms <=, one strictly."""
    def dominates(a, b):
        return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])
    return {t for t, p in points.items() if not any(dominates(q, p) for s, q in points.items() if s != t)}


@pytest.mark.slow
def test_a_trial_over_the_bound_never_trains_and_optuna_records_it_infeasible(searched):
    results = _results(searched)
    over = {t: rows for t, rows in results.items() if rows and rows[0]["param_count"] > LIMIT}
    assert over and len(over) < len(results), {t: r[0]["param_count"] for t, r in results.items() if r}
    for t, rows in over.items():  # one report, at epoch 0, with no training numbers and no checkpoint
        assert [r["epoch"] for r in rows] == [0] and rows[0]["stopped_by"] == "infeasible", rows
        assert "train_loss" not in rows[0] and not list((searched / f"trial_{t}").glob("checkpoint_*"))
    study = load_experiment_study(searched, "mo")
    assert study.directions == [optuna.study.StudyDirection.MAXIMIZE, optuna.study.StudyDirection.MINIMIZE]
    for t in study.trials:
        violation = t.constraints[f"param_count <= {LIMIT:g}"]
        wide = t.params["mlp_units_1"] == 1024
        assert (violation > 0) == wide, (t.number, t.params, violation)
        if wide:
            assert t.state == optuna.trial.TrialState.PRUNED and t.values is None
        elif t.state == optuna.trial.TrialState.COMPLETE:
            assert len(t.values) == 2


@pytest.mark.slow
def test_pareto_flags_equal_the_front_of_the_results_and_the_report_draws_it(searched, tmp_path):
    points = {}
    for t, rows in _results(searched).items():
        epochs = [r for r in rows if r.get("epoch", 0) >= 1 and math.isfinite(r.get("val_acc", math.nan))]
        if epochs and rows[-1].get("stopped_by") != "infeasible":
            points[t] = (max(r["val_acc"] for r in epochs), epochs[0]["inference_ms"])
    board = leaderboard(load_experiment(searched))
    flagged = set(board.loc[board["pareto"], "trial_id"])
    assert flagged == _front(points) and flagged, (flagged, points)
    rep = build_report(searched, tmp_path / "report", evaluate_top=0, progress=None)
    assert rep.figures["pareto"].is_file() and 'alt="pareto"' in rep.html.read_text()


@pytest.mark.slow
def test_final_pick_retrains_the_smallest_model_within_the_points(searched, tmp_path, capsys):
    board = leaderboard(load_experiment(searched))
    scored = board[(board["ended"] != "infeasible (search.constraints)") & board["val_acc"].notna()]
    within = scored[scored["val_acc"] >= scored["val_acc"].max() - 0.05]
    expected = within.sort_values(["param_count", "rank"], kind="stable").iloc[0]["trial_id"]
    assert main(["final", str(searched), "--pick", "smallest-within:5", "--out", str(tmp_path / "final")]) == 0
    bundle = json.loads((tmp_path / "final" / "bundle.json").read_text())
    assert bundle["source"]["trial_id"] == expected and expected in capsys.readouterr().out

"""Every benchmark runs in `--quick` mode and writes well-formed JSON + Markdown (numbers, never timings, asserted)."""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_quick(name: str, out: Path) -> dict:
    # a fresh process per script, as a user runs it (each starts and stops its own Ray)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", "--quick", "--out", str(out)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((out / f"{name}.json").read_text())
    md = (out / f"{name}.md").read_text()
    assert doc["benchmark"] == name and doc["quick"] is True
    assert doc["hardware"]["cores"] >= 1 and doc["hardware"]["torch"] and doc["hardware"]["ray"]
    assert f"python -m benchmarks.{name}" in doc["command"]
    assert md.startswith(f"## {name}") and "| ---" not in md and "|---|" in md and "Hardware:" in md
    return doc


def positive(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.mark.slow
def test_throughput_quick(tmp_path: Path) -> None:
    doc = run_quick("throughput", tmp_path)
    assert {r["preset"] for r in doc["results"]} == {"cnn", "lenet5"}
    for r in doc["results"]:
        assert r["batch_size"] == 128
        assert positive(r["hpsearch_images_per_s"]["median"]) and positive(r["hand_images_per_s"]["median"])
        assert positive(r["ratio"]) and len(r["per_repeat_ratio"]) == doc["repeats"]
    for v in doc["variants"]:  # quick mode also runs every device option set (bf16, channels_last) on a CPU
        assert set(v["variants"]) == {"fp32", "fp32+cudnn_benchmark", "bf16+cudnn_benchmark",
                                      "bf16+channels_last+cudnn_benchmark"}
        assert all(positive(x["median"]) and positive(x["vs_fp32"]) for x in v["variants"].values())


@pytest.mark.slow
def test_overhead_quick(tmp_path: Path) -> None:
    doc = run_quick("overhead", tmp_path)
    assert positive(doc["compute_s_per_trial"]["median"])
    for name in ("hpsearch", "bare_ray", "bare_ray_reuse"):
        run = doc["runs"][name]
        assert positive(run["wall_s"]["median"]) and positive(run["wall_s_per_trial"])
        assert math.isfinite(run["overhead_s_per_trial"])
    assert all(positive(v) for v in doc["components_s_per_trial"].values())
    assert math.isfinite(doc["hpsearch_over_bare_ray_pct"]) and math.isfinite(doc["hpsearch_over_bare_ray_reuse_pct"])


@pytest.mark.slow
def test_memory_quick(tmp_path: Path) -> None:
    doc = run_quick("memory", tmp_path)
    assert positive(doc["dataset_mib"])
    assert [m["mode"] for m in doc["modes"]] == ["shared (hpsearch)", "own copy per trial"]
    for m in doc["modes"]:
        assert m["trial_processes"] == 2  # both trials were alive at the sampled instant
        assert all(positive(m[k]) for k in ("sum_rss_mib", "sum_pss_mib", "sum_uss_mib"))
    assert math.isfinite(doc["extra_private_copies_without_sharing"])


@pytest.mark.slow
def test_search_efficiency_quick(tmp_path: Path) -> None:
    doc = run_quick("search_efficiency", tmp_path)
    assert {r["method"] for r in doc["runs"]} == {"hpsearch", "random", "ofat"}
    for r in doc["runs"]:
        assert r["trials"] >= 1 and 0 < r["test_acc"] <= 1 and 0 < r["val_acc"] <= 1
        assert r["curve"] and all(0 <= t and 0 < v <= 1 for t, v in r["curve"])
        assert [v for _, v in r["curve"]] == sorted(v for _, v in r["curve"])  # best-so-far never falls
    for _method, s in doc["summary"].items():
        assert 0 < s["test_acc"]["min"] <= s["test_acc"]["median"] <= s["test_acc"]["max"] <= 1
    png = (tmp_path / "search_efficiency.png").read_bytes()  # the curves of best accuracy against time
    assert png.startswith(b"\x89PNG") and len(png) > 5000


@pytest.mark.slow
def test_gpu_packing_quick(tmp_path: Path) -> None:
    doc = run_quick("gpu_packing", tmp_path)
    assert [r["trials_per_gpu"] for r in doc["results"]] == [1, 2]
    for r in doc["results"]:
        assert r["completed"] == r["trials"] == 2 and positive(r["trials_per_hour"]) and positive(r["wall_s"])
    if not doc["gpu"]:  # without a GPU the harness says it measured no GPU
        assert "not GPU figures" in (tmp_path / "gpu_packing.md").read_text()


@pytest.mark.slow
def test_fidelity_rank_quick(tmp_path: Path) -> None:
    doc = run_quick("fidelity_rank", tmp_path)
    fids = doc["fidelities"]
    assert [(f["fidelity"], f["cost_full_epochs"]) for f in fids] == [("0.5x1ep", 0.5), ("1x1ep", 1.0), ("1x2ep", 2.0)]
    assert doc["configs"] == len(doc["rows"]) == 3 and doc["rows"][0]["config"]["family"] == "resnet"
    for row in doc["rows"]:
        assert all(0 <= row[f["fidelity"]]["val_acc"] <= 1 and positive(row[f["fidelity"]]["cpu_seconds"])
                   for f in fids)
        assert {"val_acc_plain", "val_acc_flip_tta"} <= set(row["1x2ep"])  # both scores at full fidelity
    assert sum(v["n"] for v in doc["flip_tta"].values()) == 3
    assert not (tmp_path / "fidelity_rank.partial.json").exists()


@pytest.mark.slow
def test_scale_quick(tmp_path: Path) -> None:
    doc = run_quick("scale", tmp_path)
    assert doc["nodes"] == 3
    for name in ("hpsearch", "bare_ray_tune", "bare_ray_tune_checkpointed"):
        run = doc["runs"][name]
        assert run["completed"] == doc["trials"]
        assert positive(run["wall_s"]) and positive(run["work_s_per_trial"]) and positive(run["driver_rss_mib_at_end"])
        assert math.isfinite(run["slot_s_per_trial"]) and math.isfinite(run["overhead_s_per_slot"])
        assert run["driver_timeline"] and all(positive(s["rss_mib"]) for s in run["driver_timeline"])
        methods = run["driver_methods"]
        assert methods["optuna_suggest"]["calls"] >= doc["trials"] and methods["json_results"]["calls"] >= doc["trials"]
        assert methods["experiment_state_save"]["calls"] >= 1
    assert doc["runs"]["hpsearch"]["driver_methods"]["progress_view"]["calls"] == doc["trials"]
    acc = doc["accounting"]  # every trial Ray ended is in the leaderboard exactly once
    assert acc["leaderboard_rows"] == acc["unique_trial_ids"] == acc["ended_in_ray"] == doc["trials"]
    assert acc["same_trials"] and acc["ended_twice_in_ray"] == 0
    assert set(doc["cli_s"]) == {"status", "leaderboard"} and all(positive(v) for v in doc["cli_s"].values())

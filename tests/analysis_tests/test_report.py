"""Reports for a finished, an interrupted and an errored experiment: valid PNGs, self-contained HTML,
a non-blank screenshot in headless Chromium, and figure data that matches the trials."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis import load_experiment
from analysis.figures import best_so_far_data, rungs_data, size_data
from analysis.load import ERRORED, UNFINISHED
from analysis.report import build_report

from .conftest import INTERRUPTED_BUDGET, run_cli

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chromium_screenshot(html: Path, out: Path) -> np.ndarray:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "headless Chromium is needed for this test: apt-get install -y chromium"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={profile}", f"--screenshot={out}", "--window-size=1280,2000",
                        html.resolve().as_uri()], check=True, capture_output=True, timeout=120)
    return np.asarray(Image.open(out).convert("L"), dtype=np.float64)


def check_report(exp_dir: Path, out: Path, expect_test_eval: bool = True):
    rep = build_report(exp_dir, out, progress=None)
    for name, png in rep.figures.items():
        data = png.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 2000, name
        with Image.open(png) as im:
            im.verify()
    html = rep.html.read_text()
    # self-contained: every image is inline, nothing is fetched from elsewhere
    assert html.count("data:image/png;base64,") == len(rep.figures)
    assert not re.search(r'(src|href)="(?!data:)', html)
    assert rep.leaderboard_csv.stat().st_size > 0 and rep.leaderboard_md.read_text().startswith("| rank |")
    shot = chromium_screenshot(rep.html, out / "screenshot.png")
    assert shot.shape == (2000, 1280) and shot.std() > 10, "the rendered report is blank"
    assert bool(rep.evaluations) == expect_test_eval
    return rep, html


@pytest.mark.slow
def test_report_finished(finished_exp, tmp_path):
    rep, html = check_report(finished_exp, tmp_path)
    assert set(rep.figures) == {"best_so_far", "curves", "rungs", "importance", "slices", "size", "confusion", "roc"}
    assert "4 started" in html and "Test evaluation" in html
    assert rep.evaluations[0].trial_id == load_experiment(finished_exp).trials.sort_values(
        ["best_val_acc", "epochs", "trial_id"], ascending=[False, True, True])["trial_id"].iloc[0]


@pytest.mark.slow
def test_report_interrupted(interrupted_exp, tmp_path):
    exp = load_experiment(interrupted_exp)
    assert (exp.trials["ended"] == UNFINISHED).any() or len(exp.trials) < INTERRUPTED_BUDGET  # really cut short
    rep, html = check_report(interrupted_exp, tmp_path)
    assert "curves" in rep.figures and "confusion" in rep.figures


@pytest.mark.slow
def test_report_errored(errored_exp, tmp_path):
    exp = load_experiment(errored_exp)
    assert (exp.trials["ended"] == ERRORED).any() and (exp.trials["ended"] != ERRORED).any()
    assert "at least 12x12" in " ".join(exp.trials["error"])
    rep, html = check_report(errored_exp, tmp_path)
    assert re.search(r"[1-9]\d* errored", html)
    # the same through the CLI, into another folder
    assert run_cli("report", str(errored_exp), "--out", str(tmp_path / "cli")) == 0
    assert (tmp_path / "cli" / "report.html").read_text().count("data:image/png;base64,") == len(rep.figures)


@pytest.mark.slow
def test_figure_data_matches_trials(finished_exp):
    exp = load_experiment(finished_exp)
    rungs = rungs_data(exp)
    assert list(rungs.index) == [1, 2]
    assert rungs[1] == len(exp.trials) and rungs[2] == int((exp.trials["epochs"] >= 2).sum())
    bsf = best_so_far_data(exp)
    assert len(bsf) == len(exp.epochs)
    assert (np.diff(bsf["best"]) >= 0).all() and bsf["best"].iloc[-1] == exp.trials["best_val_acc"].max()
    assert (bsf["time_s"] >= 0).all()
    size = size_data(exp)
    assert set(size["family"]) == {"lenet5"} and (size["param_count"] > 0).all()


def test_report_of_experiment_without_trials(tmp_path):
    """Launched but nothing ran yet: the report still renders, says so, and evaluates nothing."""
    exp = tmp_path / "fresh"
    exp.mkdir()
    (exp / "hpsearch.yaml").write_text("name: fresh\nsearch: {metric: val_acc}\nbudget: {max_epochs: 3}\n")
    rep = build_report(exp, tmp_path / "out", progress=None)
    html = rep.html.read_text()
    assert "(no trials yet)" in html and "0 started" in html and rep.evaluations == []
    assert set(rep.figures) == {"best_so_far", "curves", "rungs", "size"}


def test_lazy_public_names():
    import analysis

    assert analysis.build_report is build_report and callable(analysis.final_model)

"""Bad inputs are refused before anything is written or started: exit 2, one line naming the field, fast.

Each case runs `hpsearch run` in a fresh interpreter (no Ray running), so "before Ray starts" and
"no folder written" are checked on the real command. Before these checks a resource request no node
could satisfy launched and hung with every trial pending, and a named data folder that did not hold
the data was silently replaced by the dataset found elsewhere.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search.cli import build_parser
from search.config import ConfigError, load_config
from search.launch import prepare, run_experiment

ROOT = Path(__file__).resolve().parents[2]
LIMIT_S = 30


def _cpus() -> int:
    return len(os.sched_getaffinity(0))


def _gpus() -> int:
    import torch

    return torch.cuda.device_count()


def _run(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.monotonic()
    try:
        out = subprocess.run([sys.executable, "-m", "search.cli", "run", *args], cwd=cwd, env=env,
                             capture_output=True, text=True, timeout=LIMIT_S + 30)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"hpsearch run {args} still running after {LIMIT_S + 30} s (it launched): {e.stderr!r}")
    return out, time.monotonic() - t0


def _assert_refused(out: subprocess.CompletedProcess, seconds: float, field: str, storage: Path) -> str:
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2, (out.returncode, out.stderr[-2000:])
    assert len(lines) == 1 and field in lines[0] and "Traceback" not in out.stderr, out.stderr
    assert not storage.exists(), f"{storage} was written: {list(storage.rglob('*'))}"
    assert seconds < LIMIT_S, seconds
    return lines[0]


@pytest.mark.parametrize("setting, field", [
    (lambda: f"resources.gpus_per_trial={_gpus() + 1}", "resources.gpus_per_trial"),
    (lambda: "resources.gpus_per_trial=1.5", "resources.gpus_per_trial"),
    (lambda: f"resources.cpus_per_trial={_cpus() + 1}", "resources.cpus_per_trial"),
    (lambda: "dataset.data_dir=/nonexistent/fm", "dataset.data_dir"),
], ids=["gpus", "gpus-fraction-over-one", "cpus", "data_dir-missing"])
def test_a_bad_request_is_refused_before_anything_starts(make_experiment, tmp_path, setting, field):
    exp = make_experiment("bad")
    out, seconds = _run([str(exp), "--set", setting()], tmp_path)
    line = _assert_refused(out, seconds, field, tmp_path / "results")
    if "gpus_per_trial" in field and "1.5" not in setting():
        assert f"this machine has {_gpus()} GPU(s)" in line, line  # what was asked, and what there is


def test_a_named_data_dir_without_the_dataset_is_refused(make_experiment, tmp_path):
    (tmp_path / "empty").mkdir()
    exp = make_experiment("bad")  # without the flag, the dataset is found in the default places
    out, seconds = _run([str(exp), "--data-dir", str(tmp_path / "empty")], tmp_path)
    line = _assert_refused(out, seconds, "dataset.data_dir", tmp_path / "results")
    assert "does not hold fashion_mnist" in line


def test_data_dir_flag_is_a_path_not_yaml(make_experiment, tmp_path, idx_dir, monkeypatch):
    """`--data-dir 2024` names the folder 2024; it was read as the YAML number 2024 and refused."""
    from search.cli import run_flags

    shutil.copytree(idx_dir, tmp_path / "2024")
    exp = make_experiment("flags", dataset={"name": "fashion_mnist", "train_subset": None, "val_fraction": 0.2})
    args = build_parser().parse_args(["run", str(exp), "--data-dir", "2024", "--address", "auto"])
    monkeypatch.chdir(tmp_path)
    cfg = load_config(exp, args.set, flags=run_flags(args))
    assert cfg.dataset.data_dir == str(tmp_path / "2024") and cfg.address == "auto"
    # and through the real command: past the data (loaded from ./2024), stopped by the next check
    out, seconds = _run([str(exp), "--data-dir", "2024", "--set", f"resources.cpus_per_trial={_cpus() + 1}"],
                        tmp_path)
    _assert_refused(out, seconds, "resources.cpus_per_trial", tmp_path / "results")


def test_on_a_running_cluster_an_unmet_request_waits_its_bound_then_is_refused(ray_session, make_experiment, tmp_path):
    """Joined Ray (here the test session's, 2 CPUs): resources are read from its nodes; an autoscaler gets
    `resources.wait_for_resources_s` to add a node that fits, and the message says the wait ran out."""
    exp = make_experiment("wait", resources={"cpus_per_trial": 64, "wait_for_resources_s": 3})
    prep = prepare(load_config(exp), tmp_path)
    t0 = time.monotonic()
    with pytest.raises(ConfigError) as e:
        run_experiment(prep)
    waited = time.monotonic() - t0
    assert str(e.value).startswith(f"{exp}: resources.cpus_per_trial = 64: no node can run a trial: the largest of "
                                   "the cluster's 1 node(s) has 2 CPU(s)")
    assert "after waiting resources.wait_for_resources_s = 3 s" in str(e.value)
    assert 3 <= waited < 15 and not (tmp_path / "results").exists()
    prep.cfg.resources.wait_for_resources_s = None  # no wait asked: refused at once
    t0 = time.monotonic()
    with pytest.raises(ConfigError, match="resources.cpus_per_trial = 64: no node can run a trial"):
        run_experiment(prep)
    assert time.monotonic() - t0 < 1

"""Results in object storage, end to end, against a real S3-compatible server (moto) that the test starts.

A search writes to s3://bucket/exp; its driver is SIGKILLed; `hpsearch resume s3://bucket/exp`, started with
an empty study cache (as on another machine), finishes it from the bucket alone with exactly num_samples
trials; status, leaderboard and report read the bucket directly.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
import yaml

from analysis import leaderboard, load_experiment
from analysis.final import final_model
from analysis.layout import EXPERIMENT_STATE, newest
from analysis.load import COMPLETED, STOPPED_ASHA
from analysis.location import RemotePath, as_path
from analysis.report import build_report
from search.status import from_disk
from search.study_storage import load_experiment_study

ROOT = Path(__file__).resolve().parents[2]
# enough that no machine finishes them all between the first upload that shows a finished trial and the kill
# (with 4, CI's machine had finished all of them by then)
NUM_SAMPLES = 12
EXP = "s3://hpsearch-test/exp"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A moto S3 server on a free local port with one bucket; the AWS variables that reach it (here and in CLIs)."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": f"http://{host}:{port}", "HPSEARCH_STUDY_CACHE": str(tmp_path / "driver-cache")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"]).create_bucket(Bucket="hpsearch-test")
    yield env
    server.stop()


def cli(env: dict[str, str], *args: str) -> subprocess.Popen:
    # Ray uploads its experiment state every second (default: adaptive, tens of seconds), so the kill below
    # happens right after the first trial ends, not after a fast machine has finished them all
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT), "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S": "0",
            "TUNE_GLOBAL_CHECKPOINT_S": "1"}
    return subprocess.Popen([sys.executable, "-m", "search.cli", *args], cwd=ROOT, env=full, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def terminated(exp: RemotePath) -> int:
    """Trials TERMINATED in the experiment state Ray last uploaded to the bucket."""
    state = newest(exp, EXPERIMENT_STATE)
    try:
        data = json.loads(state.read_text()) if state is not None else {"trial_data": []}
    except (OSError, json.JSONDecodeError):
        return 0
    return sum(json.loads(t)["status"] == "TERMINATED" for t, _ in data["trial_data"])


def kill_search(proc: subprocess.Popen) -> None:
    """SIGKILL the driver and the Ray processes of its session (their command lines end in its pid)."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    subprocess.run(["pkill", "-9", "-f", f"session_[0-9_-]*_{proc.pid}"], check=False)
    time.sleep(2)  # an upload a killed worker had started is over or dead


@pytest.mark.slow
def test_search_in_s3_survives_a_driver_kill_and_is_read_from_the_bucket(tmp_path, fashion_dir, s3):
    exp_yaml = tmp_path / "exp.yaml"
    exp_yaml.write_text(yaml.safe_dump({
        "name": "exp", "storage": "s3://hpsearch-test", "space": "lenet5",
        "dataset": {"name": "fashion_mnist", "data_dir": str(fashion_dir), "train_subset": 600, "val_fraction": 0.2},
        "budget": {"num_samples": NUM_SAMPLES, "max_epochs": 2, "grace_period": 1, "reduction_factor": 2},
        "search": {"seed": 3}, "resources": {"cpus_per_trial": 1, "max_concurrent": 1},  # one at a time: time to kill
    }))
    exp = as_path(EXP)
    assert isinstance(exp, RemotePath)
    proc = cli(s3, "run", str(exp_yaml))
    deadline = time.time() + 300
    while terminated(exp) < 1:
        assert proc.poll() is None, f"search ended before the kill point:\n{proc.stdout.read()}"
        assert time.time() < deadline, "no trial finished in the bucket"
        time.sleep(0.5)
    kill_search(proc)
    assert terminated(exp) < NUM_SAMPLES

    # resumed elsewhere: nothing of the first driver's disk, only the bucket
    resumed = cli({**s3, "HPSEARCH_STUDY_CACHE": str(tmp_path / "other-machine")}, "resume", EXP)
    out, _ = resumed.communicate(timeout=400)
    assert resumed.returncode == 0, out
    print(out[-4000:])  # shown by pytest only if a check below fails: what the resumed driver said

    table = load_experiment(EXP).trials
    assert len(table) == NUM_SAMPLES and table["trial_id"].is_unique
    assert set(table["ended"]) <= {COMPLETED, STOPPED_ASHA}, table[["trial_id", "ended"]]
    # no configuration trained twice, whatever moment of the upload the kill hit (search/searcher_reconcile.py);
    # a trial the killed driver started but never recorded is left out (abandoned), its folder kept
    configs = table.filter(like="config/").drop(columns="config/seed", errors="ignore")
    assert not configs.astype(str).duplicated().any(), configs
    study = load_experiment_study(EXP, "exp")  # the journal in the bucket
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
    assert len({json.dumps(t.params, sort_keys=True) for t in study.trials}) >= NUM_SAMPLES

    # readers work on the bucket itself
    assert from_disk(EXP).counts and sum(from_disk(EXP).counts.values()) == NUM_SAMPLES
    board = leaderboard(load_experiment(EXP))
    assert sorted(board["trial_id"]) == sorted(table["trial_id"])
    rep = build_report(EXP, tmp_path / "report", evaluate_top=1, progress=None)
    assert rep.html.is_file() and rep.evaluations, "the best trial's checkpoint was read from the bucket"
    final = final_model(EXP, tmp_path / "final", progress=None)  # the best trial's params.json, from the bucket
    assert final.bundle.is_dir() and final.trial_id in set(table["trial_id"])

"""A real multi-node Ray cluster on one machine (separate raylets): trials spread over nodes,
and a trial whose node dies continues from its last checkpoint on another node."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from analysis import load_experiment
from search.experiment_dir import read_results

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cluster():
    from ray.cluster_utils import Cluster

    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    worker = c.add_node(num_cpus=1)
    yield c, worker
    c.shutdown()


def start(exp_yaml: Path, address: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "search.cli", "run", str(exp_yaml), "--address", address],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def experiment(tmp_path: Path, fashion_dir: Path, name: str, subset: int, epochs: int, samples: int) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "storage": str(tmp_path / "results"), "space": "lenet5",
        "dataset": {"name": "fashion_mnist", "data_dir": str(fashion_dir), "train_subset": subset},
        "budget": {"num_samples": samples, "max_epochs": epochs, "grace_period": epochs},
        "resources": {"cpus_per_trial": 1, "max_concurrent": 2, "max_failures": 2},
    }))
    return path


@pytest.mark.slow
def test_trials_land_on_both_nodes_and_survive_a_node_death(tmp_path, fashion_dir, cluster):
    c, worker = cluster
    exp_yaml = experiment(tmp_path, fashion_dir, "multi", subset=6000, epochs=4, samples=3)
    exp = tmp_path / "results" / "multi"
    proc = start(exp_yaml, c.address)
    worker_id = worker.node_id
    victim = None
    deadline = time.time() + 300
    while victim is None:  # wait until a trial on the worker node has checkpointed an epoch
        assert proc.poll() is None, proc.stdout.read()
        assert time.time() < deadline, "no trial ever ran on the worker node"
        for result in exp.glob("trial_*/result.json"):
            rows = read_results(result)
            if rows and rows[-1].get("node_id") == worker_id and rows[-1]["epoch"] < 4 \
                    and list(result.parent.glob("checkpoint_*")):
                victim = result
        time.sleep(0.2)
    c.remove_node(worker, allow_graceful=False)
    out, _ = proc.communicate(timeout=400)
    assert proc.returncode == 0, out

    trials = load_experiment(exp).trials
    assert len(trials) == 3 and set(trials["ended"]) == {"completed"}, trials[["trial_id", "ended", "status"]]
    rows = read_results(victim)
    nodes = [r["node_id"] for r in rows]
    assert nodes[0] == worker_id and nodes[-1] != worker_id, "the victim trial moved to another node"
    epochs = [r["epoch"] for r in rows]
    first_elsewhere = next(i for i, n in enumerate(nodes) if n != worker_id)
    last_on_worker = epochs[first_elsewhere - 1]
    # continued from its last checkpoint: at most the epoch in flight is repeated, never from scratch
    assert epochs[first_elsewhere] in (last_on_worker, last_on_worker + 1), epochs
    assert epochs[-1] == 4
    all_nodes = {r["node_id"] for p in exp.glob("trial_*/result.json") for r in read_results(p)}
    assert len(all_nodes) >= 2, "trials ran on at least two nodes"

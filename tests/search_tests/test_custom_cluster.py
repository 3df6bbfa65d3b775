"""A custom model from a `module:function` reference in YAML, searched through the CLI on a real 2-node
Ray cluster (separate raylets): the module lives in a folder on nobody's import path and reaches the
worker node only through Ray's runtime environment (`cluster.runtime_env.py_modules`)."""
from __future__ import annotations

import sys

import pytest
import yaml

from analysis import load_experiment
from search.experiment_dir import read_results
from tests.search_tests.test_cluster import cluster, start  # noqa: F401 (the fixture)

BUILDER = '''
import os
from pathlib import Path

from torch import nn


def build(config, in_shape, num_classes):
    # where this module was imported from, on the node that built the model
    Path(config["log_dir"], f"{os.getpid()}.txt").write_text(__file__)
    width = config["width"]
    return nn.Sequential(nn.Conv2d(in_shape[0], width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
                         nn.Flatten(), nn.Linear(width * 16, num_classes))
'''


@pytest.mark.slow
@pytest.mark.parametrize("cluster", [0], indirect=True)  # no CPU on the head: every trial runs on the worker
def test_a_yaml_module_reference_runs_on_the_worker_node_shipped_by_runtime_env(tmp_path, fashion_dir,
                                                                               cluster):  # noqa: F811
    worker = cluster.add_node(num_cpus=1)
    code, seen = tmp_path / "usercode", tmp_path / "seen"
    code.mkdir(), seen.mkdir()
    (code / "shipped_tiny_nets.py").write_text(BUILDER)
    assert str(code) not in sys.path and "shipped_tiny_nets" not in sys.modules
    (tmp_path / "space.yaml").write_text(yaml.safe_dump({"name": "mine", "params": {
        "family": {"type": "const", "value": "custom"},
        "builder": {"type": "const", "value": "shipped_tiny_nets:build"},
        "width": {"type": "int", "low": 4, "high": 8},
        "log_dir": {"type": "const", "value": str(seen)},
        "lr": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True}}}))
    exp_yaml = tmp_path / "exp.yaml"
    exp_yaml.write_text(yaml.safe_dump({
        "name": "custom", "storage": str(tmp_path / "results"), "space": "space.yaml",
        "dataset": {"name": "fashion_mnist", "data_dir": str(fashion_dir), "train_subset": 300},
        "budget": {"num_samples": 2, "max_epochs": 1, "grace_period": 1},
        "resources": {"cpus_per_trial": 1, "max_concurrent": 1},
        "cluster": {"runtime_env": {"py_modules": ["usercode/shipped_tiny_nets.py"]}},
    }))
    proc = start(exp_yaml, cluster.address)
    out, _ = proc.communicate(timeout=400)
    assert proc.returncode == 0, out
    exp = tmp_path / "results" / "custom"
    trials = load_experiment(exp).trials
    assert len(trials) == 2 and set(trials["ended"]) == {"completed"}, trials[["trial_id", "ended"]]
    nodes = {r["node_id"] for p in exp.glob("trial_*/result.json") for r in read_results(p)}
    assert nodes == {worker.node_id}, "the trials ran on the worker node"
    imported_from = {p.read_text() for p in seen.iterdir()}
    assert imported_from and not any(f.startswith(str(code)) for f in imported_from), \
        f"the worker imported the builder from Ray's shipped copy, not {code}: {imported_from}"

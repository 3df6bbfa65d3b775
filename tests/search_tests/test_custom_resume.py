"""A custom-model search with bad builders among good ones: the bad trials end as errors naming their
builder and the rest of the search goes on; the driver is SIGKILLed mid-search, `hpsearch resume`
finishes it, and the report and the final model (bundle, prediction) work as for a built-in family."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from analysis import build_report, final_model, load_bundle, load_experiment
from analysis.evaluate import predict_probs
from analysis.load import COMPLETED, ERRORED, STOPPED_ASHA
from search.experiment_dir import read_results
from tests.search_tests.test_kill_resume import KILL_WHEN, cli, kill_search
from trainables.data import load_dataset

MOD = "tests.trainables_tests.custom_builders"
NETS = '''from torch import nn


def tiny(config, in_shape, num_classes):
    w = config["width"]
    return nn.Sequential(nn.Conv2d(in_shape[0], w, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(),
                         nn.Linear(w * (in_shape[1] // 4) * (in_shape[2] // 4), num_classes))
'''
EXPECTED_ERRORS = {f"{MOD}:raises": "raised RuntimeError: no layer fits (1, 28, 28)",
                   f"{MOD}:not_a_module": "returned str, not a torch.nn.Module"}


def _experiment(tmp_path: Path, fashion_dir: Path) -> Path:
    (tmp_path / "resume_nets.py").write_text(NETS)
    good = f"{tmp_path / 'resume_nets.py'}:tiny"
    (tmp_path / "space.yaml").write_text(yaml.safe_dump({"name": "mine", "params": {
        "family": {"type": "const", "value": "custom"},
        "builder": {"type": "categorical", "choices": [good, *EXPECTED_ERRORS]},
        "width": {"type": "int", "low": 4, "high": 8},
        "lr": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True}},
        "warm_start": [{"builder": good, "width": 8, "lr": 5e-3}, {"builder": f"{MOD}:raises", "width": 4, "lr": 5e-3},
                       {"builder": f"{MOD}:not_a_module", "width": 4, "lr": 5e-3},
                       {"builder": good, "width": 4, "lr": 2e-3}]}))
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump({
        "name": "custom", "storage": str(tmp_path / "results"), "space": "space.yaml",
        "dataset": {"name": "fashion_mnist", "data_dir": str(fashion_dir), "train_subset": 500},
        "budget": {"num_samples": 4, "max_epochs": 2, "grace_period": 1, "reduction_factor": 2},
        "search": {"seed": 1}, "resources": {"cpus_per_trial": 1, "max_concurrent": 2},
    }))
    return path


@pytest.mark.slow
def test_bad_builders_kill_resume_report_and_final_of_a_custom_model(tmp_path, fashion_dir):
    exp = tmp_path / "results" / "custom"
    proc = cli("run", str(_experiment(tmp_path, fashion_dir)))
    deadline = time.time() + 240
    while not KILL_WHEN["early"](exp):
        assert proc.poll() is None, f"search ended before the kill point:\n{proc.stdout.read()}"
        assert time.time() < deadline, "kill point never reached"
        time.sleep(0.2)
    kill_search(proc, exp)
    resumed = cli("resume", str(exp))
    out, _ = resumed.communicate(timeout=400)
    assert resumed.returncode == 0, out

    trials = load_experiment(exp).trials
    assert len(trials) == 4
    for _, t in trials.iterrows():
        if t["config/builder"] in EXPECTED_ERRORS:  # ended alone, with a message naming its builder
            assert t["ended"] == ERRORED and t["epochs"] == 0, t
            assert f"builder '{t['config/builder']}' {EXPECTED_ERRORS[t['config/builder']]}" in t["error"]
        else:
            assert t["ended"] in (COMPLETED, STOPPED_ASHA) and not t["error"], t
            epochs = [r["epoch"] for r in read_results(Path(t["trial_dir"]) / "result.json")]
            assert epochs[0] == 1 and all(b == a + 1 for a, b in zip(epochs, epochs[1:])), epochs
    # the warm starts hold two bad builders; a driver killed right after a proposal may have the resumed
    # searcher sample the fourth configuration instead of replaying it, so count the bad builders that ran
    bad = trials["config/builder"].isin(list(EXPECTED_ERRORS))
    assert (trials["ended"] == ERRORED).sum() == bad.sum() >= 2 and (~bad).sum() >= 1

    report = build_report(exp, progress=None)
    assert report.html.is_file() and report.evaluations and report.evaluations[0].config["family"] == "custom"
    final = final_model(exp, progress=None)
    bundle = load_bundle(final.bundle)
    assert bundle.meta["config"]["builder"] == f"{tmp_path / 'resume_nets.py'}:tiny"
    x_test = load_dataset("fashion_mnist", str(fashion_dir), {}).x_test[:50]
    probs = predict_probs(bundle.model, bundle.preprocess, x_test)
    assert probs.shape == (50, 10) and np.allclose(probs.sum(1), 1, atol=1e-5)

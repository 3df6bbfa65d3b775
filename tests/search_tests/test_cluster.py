"""A real multi-node Ray cluster on one machine (separate raylets): trials spread over nodes, and a
node's death costs at most the epochs since each trial's last checkpoint, never a trial, with worker
reuse on (hpsearch's setting).

Every search here runs in its own driver process (`hpsearch run --address`), as on a real cluster.
"""
from __future__ import annotations

import json
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
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "token"}  # the test clusters require tokens


def ensure_token() -> None:
    """Ray's token for this machine's clusters (what `ray.init()` of embedded Ray creates if missing)."""
    if not (os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
            or (Path.home() / ".ray" / "auth_token").is_file()):
        subprocess.run(["ray", "get-auth-token", "--generate"], check=True, capture_output=True)


@pytest.fixture
def cluster(request):
    """A head node with 1 CPU (or `@pytest.mark.parametrize("cluster", [CPUS], indirect=True)`); add workers.

    Token authentication on, as hpsearch requires of a cluster it joins (the drivers inherit the mode).
    """
    from ray.cluster_utils import Cluster

    from search._ray_compat import use_token_auth

    ensure_token()
    use_token_auth()
    cpus = getattr(request, "param", 1)
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": cpus, "include_dashboard": False})
    yield c
    c.shutdown()


def start(exp_yaml: Path, address: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "search.cli", "run", str(exp_yaml), "--address", address],
                            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def experiment(tmp_path: Path, fashion_dir: Path, name: str, subset: int, epochs: int, samples: int,
               concurrent: int) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "storage": str(tmp_path / "results"), "space": "lenet5",
        "dataset": {"name": "fashion_mnist", "data_dir": str(fashion_dir), "train_subset": subset},
        "budget": {"num_samples": samples, "max_epochs": epochs, "grace_period": epochs},
        "resources": {"cpus_per_trial": 1, "max_concurrent": concurrent, "max_failures": 2},
    }))
    return path


def running_on(exp: Path, node_id: str, before_epoch: int) -> list[Path]:
    """Trials whose latest result is from `node_id`, with a checkpoint, still short of `before_epoch`."""
    found = []
    for result in exp.glob("trial_*/result.json"):
        rows = read_results(result)
        if rows and rows[-1].get("node_id") == node_id and rows[-1]["epoch"] < before_epoch \
                and list(result.parent.glob("checkpoint_*")):
            found.append(result)
    return found


def kill_when(c, node, exp: Path, proc: subprocess.Popen, trials: int, before_epoch: int) -> None:
    """Kill `node` (no graceful shutdown) once `trials` trials on it have checkpointed and have epochs left."""
    deadline = time.time() + 400
    while len(running_on(exp, node.node_id, before_epoch)) < trials:
        assert proc.poll() is None, proc.stdout.read()
        assert time.time() < deadline, f"never {trials} trial(s) with a checkpoint running on the worker node"
        time.sleep(0.2)
    c.remove_node(node, allow_graceful=False)


def check_all_completed_and_resumed(exp: Path, proc: subprocess.Popen, worker_id: str, samples: int,
                                    epochs: int) -> list[list[int]]:
    """Every trial completed; each trial cut by the node death went on elsewhere from its last checkpoint.

    Returns the epochs reported by each trial that moved (one list per trial).
    """
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    trials = load_experiment(exp).trials
    assert len(trials) == samples and set(trials["ended"]) == {"completed"}, trials[["trial_id", "ended", "status"]]
    moved = []
    for result in exp.glob("trial_*/result.json"):
        rows = read_results(result)
        nodes, reported = [r["node_id"] for r in rows], [r["epoch"] for r in rows]
        assert reported[-1] == epochs, (result, reported)
        if worker_id not in nodes or nodes[-1] == worker_id:
            continue  # never on the dead node, or finished there before it died
        first_elsewhere = next(i for i, n in enumerate(nodes) if i > nodes.index(worker_id) and n != worker_id)
        # continued from its last checkpoint: at most the epoch in flight is repeated, never from scratch
        assert reported[first_elsewhere] in (reported[first_elsewhere - 1], reported[first_elsewhere - 1] + 1), \
            (result, reported, nodes)
        moved.append(reported)
    return moved


@pytest.mark.slow
def test_trials_land_on_both_nodes_and_survive_a_node_death(tmp_path, fashion_dir, cluster):
    worker = cluster.add_node(num_cpus=1)
    # 18,000 images and 8 epochs: the kill point (a checkpoint, three or more epochs left) lasts several
    # seconds; with 6,000 images and 4 epochs a trial went through it between two polls in 4 of 5 recent runs
    exp_yaml = experiment(tmp_path, fashion_dir, "multi", subset=18000, epochs=8, samples=3, concurrent=2)
    exp = tmp_path / "results" / "multi"
    proc = start(exp_yaml, cluster.address)
    kill_when(cluster, worker, exp, proc, trials=1, before_epoch=6)  # three epochs left: it cannot finish first
    moved = check_all_completed_and_resumed(exp, proc, worker.node_id, samples=3, epochs=8)
    assert len(moved) >= 1, "the trial cut by the node death went on on the head node"
    all_nodes = {r["node_id"] for p in exp.glob("trial_*/result.json") for r in read_results(p)}
    assert len(all_nodes) >= 2, "trials ran on at least two nodes"


@pytest.mark.slow
def test_a_node_death_with_two_trials_on_it_loses_no_trial(tmp_path, fashion_dir, cluster):
    """Worker reuse on (as always in hpsearch), two trials on the node that dies, more trials queued."""
    worker = cluster.add_node(num_cpus=2)
    # long trials: under load the two workers start tens of seconds apart, and both must still be training
    exp_yaml = experiment(tmp_path, fashion_dir, "two", subset=6000, epochs=8, samples=4, concurrent=3)
    exp = tmp_path / "results" / "two"
    proc = start(exp_yaml, cluster.address)
    kill_when(cluster, worker, exp, proc, trials=2, before_epoch=7)  # both have 2+ epochs left
    cluster.add_node(num_cpus=2)  # a replacement node, as an autoscaler would start
    moved = check_all_completed_and_resumed(exp, proc, worker.node_id, samples=4, epochs=8)
    assert len(moved) >= 2, "both trials cut by the node death went on elsewhere"


@pytest.mark.slow
@pytest.mark.parametrize("cluster", [0], indirect=True)  # no CPU on the head: trial 0 runs on the worker
def test_a_reused_worker_that_died_with_its_node_costs_a_retry_not_the_trial(tmp_path, cluster):
    """Regression (Ray Tune 2.60): a cached worker on a dead node, handed to a new trial, counted two failures
    for one death and errored the trial at once ("Failure # 1" and "# 2" in the same second)."""
    worker = cluster.add_node(num_cpus=1)
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("gated_driver.py")), cluster.address,
                             str(tmp_path)], cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    deadline = time.time() + 120
    while not (tmp_path / "completed0").exists():  # trial 0 ran on the worker; its worker is kept for reuse
        assert proc.poll() is None, proc.stdout.read()
        assert time.time() < deadline, "trial 0 never completed"
        time.sleep(0.1)
    time.sleep(1)
    cluster.remove_node(worker, allow_graceful=False)
    cluster.add_node(num_cpus=1)
    (tmp_path / "gate").touch()  # now trial 1 is created, and handed the dead worker first
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out
    statuses = json.loads((tmp_path / "statuses.json").read_text())
    assert [s["status"] for s in statuses] == ["TERMINATED", "TERMINATED"], statuses
    assert (tmp_path / "ran0").read_text() == worker.node_id
    [errors] = (tmp_path / "results" / "gated").glob("*i=1*/error.txt")
    assert errors.read_text().count("Failure #") == 1, "trial 1 was handed the dead worker: one failure, one retry"


def peak_running(exp: Path, name: str, proc: subprocess.Popen) -> int:
    """Most Optuna trials RUNNING at once, read from the default (journal) study while the driver writes it."""
    import optuna

    from search.study_storage import load_experiment_study

    peak = 0
    while proc.poll() is None:
        try:
            study = load_experiment_study(exp, name)
        except (KeyError, FileNotFoundError, ValueError):  # not created yet, or the folder not yet made
            time.sleep(0.2)
            continue
        peak = max(peak, len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))))
        time.sleep(0.2)
    return peak


@pytest.mark.slow
@pytest.mark.parametrize("cluster", [2], indirect=True)
def test_eight_concurrent_trials_on_three_raylets_lose_no_study_trial(tmp_path, fashion_dir, cluster):
    """8 trials at once over 3 raylets, the study in its default storage (the journal file) read by this
    process while the driver writes it: each Ray trial is one Optuna trial, none lost, none duplicated."""
    import optuna

    from search.study_storage import load_experiment_study

    cluster.add_node(num_cpus=3)
    cluster.add_node(num_cpus=3)
    exp_yaml = experiment(tmp_path, fashion_dir, "conc", subset=300, epochs=1, samples=8, concurrent=8)
    exp = tmp_path / "results" / "conc"
    proc = start(exp_yaml, cluster.address)
    peak = peak_running(exp, "conc", proc)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    assert "database is locked" not in out
    assert peak >= 8, f"at most {peak} trials ran at once"
    assert (exp / "optuna.journal").is_file() and not (exp / "optuna.db").exists()
    study = load_experiment_study(exp, "conc")
    assert sorted(t.number for t in study.trials) == list(range(8))
    assert {t.state for t in study.trials} == {optuna.trial.TrialState.COMPLETE}
    # seed = experiment seed * 100003 + trial number (seed 0): each Ray trial names its Optuna trial
    received = {json.loads(p.read_text())["seed"]: json.loads(p.read_text()) for p in exp.glob("trial_*/params.json")}
    assert sorted(received) == list(range(8))
    for t in study.trials:
        assert t.params == {k: v for k, v in received[t.number].items() if k not in ("seed", "family")}

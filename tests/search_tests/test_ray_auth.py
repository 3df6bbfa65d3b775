"""Ray's ports are never open to the network without authentication.

Embedded Ray (no `address`) always runs with Ray's token authentication, even when the user's
environment says RAY_AUTH_MODE=disabled; a cluster that does not require tokens is refused unless the
experiment opts out with `cluster.allow_unauthenticated: true`. Only the processes each test started
are inspected (other Ray instances may run on the machine).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from search.config import ConfigError, parse_config

from .ray_ports import LOOPBACK, demands_token, listening, process_tree

ROOT = Path(__file__).resolve().parents[2]
CONNECT = "import ray, sys; ray.init(address=sys.argv[1], log_to_driver=False); print('CONNECTED')"


def env_with(**auth: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    return {**env, "PYTHONPATH": str(ROOT), **auth}


def client_connects(address: str, **auth: str) -> bool:
    """Whether a Ray client with this authentication joins within 10 s (a refused one errors, or keeps retrying).

    A refused client retries until the timeout (the two refused clients made this test take 95 s with a
    40 s wait), and a client that Ray lets in joins within a few seconds, so a longer wait only costs suite time.
    """
    try:
        r = subprocess.run([sys.executable, "-c", CONNECT, address], env=env_with(**auth), capture_output=True,
                           text=True, timeout=10)
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0 and "CONNECTED" in r.stdout


def write_experiment(tmp_path: Path, fashion_dir: Path, name: str, **extra) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "storage": str(tmp_path / "results"), "space": "lenet5",
        "dataset": {"name": "fashion_mnist", "data_dir": str(fashion_dir), "train_subset": 2000},
        "budget": {"num_samples": 2, "max_epochs": 3, "grace_period": 3},
        "resources": {"cpus_per_trial": 1, "max_concurrent": 1}, **extra}))
    return path


@pytest.mark.slow
def test_an_embedded_run_opens_no_ray_port_to_the_network_without_a_token(tmp_path, fashion_dir):
    exp_yaml = write_experiment(tmp_path, fashion_dir, "embedded")
    # the user's environment turns Ray's authentication off: hpsearch's embedded Ray must not follow it
    proc = subprocess.Popen([sys.executable, "-m", "search.cli", "run", str(exp_yaml)], cwd=ROOT,
                            env=env_with(RAY_AUTH_MODE="disabled"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        deadline = time.time() + 300
        while not list((tmp_path / "results" / "embedded").glob("trial_*/result.json")):
            assert proc.poll() is None, proc.stdout.read()
            assert time.time() < deadline, "no trial ever reported"
            time.sleep(0.2)
        ports = listening(process_tree(proc.pid))
        names = {pid: Path(f"/proc/{pid}/comm").read_text().strip() for pid, _, _ in ports}
        exposed = [(names[pid], ip, port) for pid, ip, port in ports if ip not in LOOPBACK]
        assert {"gcs_server", "raylet"} <= {n for n, _, _ in exposed}, f"the run's Ray processes: {exposed}"
        open_ports = [(n, ip, port) for n, ip, port in exposed if demands_token(ip, port) is not True]
        assert open_ports == [], f"reachable from the network without Ray's token: {open_ports}"
        gcs = next(f"127.0.0.1:{port}" for n, _, port in exposed if n == "gcs_server")
        with ThreadPoolExecutor(2) as pool:  # both clients at once: a refused one only times out
            no_token = pool.submit(client_connects, gcs, RAY_AUTH_MODE="disabled")
            wrong_token = pool.submit(client_connects, gcs, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN="0" * 32)
            assert not no_token.result(), "a client without the token joined"
            assert not wrong_token.result(), "a wrong token joined"
    finally:
        out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out


@pytest.fixture
def open_cluster(tmp_path):
    """A Ray cluster without token authentication, in its own process (this process's Ray uses tokens)."""
    script = ("import sys; from ray.cluster_utils import Cluster\n"
              "c = Cluster(initialize_head=True, head_node_args={'num_cpus': 1, 'include_dashboard': False})\n"
              "print(c.address, flush=True); sys.stdin.read(); c.shutdown()\n")
    proc = subprocess.Popen([sys.executable, "-c", script], env=env_with(RAY_AUTH_MODE="disabled"), text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    address = proc.stdout.readline().strip()
    assert address, "the test cluster did not start"
    yield address
    proc.stdin.close()
    proc.wait(timeout=120)


@pytest.mark.slow
def test_a_cluster_without_token_auth_is_refused_before_anything_is_written(tmp_path, fashion_dir, open_cluster):
    exp_yaml = write_experiment(tmp_path, fashion_dir, "joined")
    r = subprocess.run([sys.executable, "-m", "search.cli", "run", str(exp_yaml), "--address", open_cluster],
                       cwd=ROOT, env=env_with(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "cluster.allow_unauthenticated: true" in r.stderr + r.stdout
    assert not (tmp_path / "results" / "joined").exists(), "nothing written for a refused cluster"


def test_allow_unauthenticated_is_a_validated_boolean() -> None:
    assert parse_config({"cluster": {"allow_unauthenticated": True}}).cluster.allow_unauthenticated is True
    assert parse_config({}).cluster.allow_unauthenticated is False
    with pytest.raises(ConfigError, match=r"cluster.allow_unauthenticated = 'yes': true or false"):
        parse_config({"cluster": {"allow_unauthenticated": "yes"}})

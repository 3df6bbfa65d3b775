"""Small real experiments shared by the analysis tests (each built once per test session).

- `finished_exp`: a LeNet-5 search on real Fashion-MNIST (600 images, 4 trials, ASHA over 2 epochs).
- `errored_exp`: family [mlp, lenet5] on generated 8x8 images: lenet5 raises, mlp trains.
- `interrupted_exp`: the CLI in a subprocess, SIGKILLed once the first checkpoint exists.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.conftest import synthetic_images

ROOT = Path(__file__).resolve().parents[2]
INTERRUPTED_BUDGET = 60  # trials asked of the search that `interrupted_exp` kills


def write_experiment(folder: Path, name: str, **sections) -> Path:
    cfg = {
        "name": name, "storage": str(folder / "results"), "space": "lenet5",
        "dataset": {"name": "fashion_mnist", "train_subset": 600, "val_fraction": 0.2},
        "budget": {"num_samples": 4, "max_epochs": 2, "grace_period": 1, "reduction_factor": 2},
        "search": {"seed": 0},
        "resources": {"cpus_per_trial": 1, "max_concurrent": 2, "max_failures": 0},
    }
    for key, value in sections.items():
        cfg[key] = {**cfg[key], **value} if isinstance(value, dict) and isinstance(cfg.get(key), dict) else value
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def run_search(yml: Path) -> Path:
    """`hpsearch run` without its progress callback (which holds stdout; pytest's capture cannot be pickled)."""
    from search.config import load_config
    from search.launch import prepare, run_experiment

    prep = prepare(load_config(str(yml), []), yml.parent)
    return Path(run_experiment(prep, verbose=False, callbacks=[]))


def run_cli(*argv: str) -> int:
    from search.cli import main

    return main(list(argv))


@pytest.fixture(scope="session")
def finished_exp(tmp_path_factory, ray_session, fashion_dir) -> Path:
    folder = tmp_path_factory.mktemp("finished")
    yml = write_experiment(folder, "finished", dataset={"data_dir": str(fashion_dir)})
    return run_search(yml)


@pytest.fixture(scope="session")
def tiny_idx_dir(tmp_path_factory) -> Path:
    """Fashion-MNIST-shaped IDX files of generated 8x8 images (too small for LeNet-5)."""
    from trainables.data.idx import write_idx

    d = tmp_path_factory.mktemp("idx8")
    xtr, ytr = synthetic_images(400, shape=(1, 8, 8), seed=1)
    xte, yte = synthetic_images(100, shape=(1, 8, 8), seed=2)
    write_idx(d / "train-images-idx3-ubyte.gz", xtr[:, 0])
    write_idx(d / "train-labels-idx1-ubyte.gz", ytr.astype(np.uint8))
    write_idx(d / "t10k-images-idx3-ubyte.gz", xte[:, 0])
    write_idx(d / "t10k-labels-idx1-ubyte.gz", yte.astype(np.uint8))
    return d


@pytest.fixture(scope="session")
def errored_exp(tmp_path_factory, ray_session, tiny_idx_dir) -> Path:
    folder = tmp_path_factory.mktemp("errored")
    space = {"name": "mixed", "params": {"family": {"type": "categorical", "choices": ["mlp", "lenet5"]},
                                         "lr": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True}},
             # one of each family for sure: the lenet5 point errors on 8x8 images, the mlp one trains
             "warm_start": [{"family": "mlp", "lr": 3e-3}, {"family": "lenet5", "lr": 3e-3}]}
    (folder / "mixed.yaml").write_text(yaml.safe_dump(space))
    yml = write_experiment(folder, "errored", space=str(folder / "mixed.yaml"),
                           dataset={"data_dir": str(tiny_idx_dir), "train_subset": None},
                           budget={"num_samples": 3})
    return run_search(yml)


@pytest.fixture(scope="session")
def interrupted_exp(tmp_path_factory, fashion_dir) -> Path:
    """A search killed mid-run (SIGKILL to the CLI's process group): no clean shutdown at all.

    Its budget is far more trials than can finish in the second between the first checkpoint and the kill,
    so the search is always cut short (with 8 trials, a fast machine finished them all in that second)."""
    folder = tmp_path_factory.mktemp("interrupted")
    yml = write_experiment(folder, "interrupted", dataset={"data_dir": str(fashion_dir)},
                           budget={"num_samples": INTERRUPTED_BUDGET, "max_epochs": 3},
                           resources={"max_concurrent": 1})
    exp = folder / "results" / "interrupted"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "search.cli", "run", str(yml)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            if any(exp.glob("trial_*/checkpoint_*/state.pt")):
                time.sleep(1.0)  # let the checkpoint file finish writing
                break
            time.sleep(0.5)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the search finished before it could be interrupted"
    return exp

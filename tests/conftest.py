"""Shared fixtures: real Ray (one local session per test run), small data, experiment files."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")


def pytest_configure(config: pytest.Config) -> None:
    # a private download cache, so tests never see (or fill) the user's ~/.cache/hpsearch
    os.environ["HPSEARCH_CACHE"] = str(Path(config.rootpath) / ".pytest_cache" / "hpsearch-cache")


@pytest.fixture(scope="session")
def ray_session():
    """One embedded Ray for the whole test run (starting Ray costs seconds)."""
    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray


def synthetic_images(n: int, num_classes: int = 10, shape: tuple[int, int, int] = (1, 28, 28),
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Learnable uint8 images: each class lights up its own horizontal band, plus noise."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % num_classes
    rng.shuffle(y)
    c, h, w = shape
    x = rng.integers(0, 60, size=(n, c, h, w), dtype=np.uint8)
    band = max(1, h // num_classes)
    for k in range(num_classes):
        rows = slice((k * band) % h, (k * band) % h + band)
        x[y == k, :, rows, :] = 220
    return x, y.astype(np.int64)


@pytest.fixture
def idx_dir(tmp_path: Path) -> Path:
    """A folder with the four Fashion-MNIST IDX .gz files, generated (600 train / 200 test)."""
    from trainables.data.idx import write_idx

    d = tmp_path / "idx"
    d.mkdir()
    xtr, ytr = synthetic_images(600, seed=1)
    xte, yte = synthetic_images(200, seed=2)
    write_idx(d / "train-images-idx3-ubyte.gz", xtr[:, 0])
    write_idx(d / "train-labels-idx1-ubyte.gz", ytr.astype(np.uint8))
    write_idx(d / "t10k-images-idx3-ubyte.gz", xte[:, 0])
    write_idx(d / "t10k-labels-idx1-ubyte.gz", yte.astype(np.uint8))
    return d


REAL_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    """The real Fashion-MNIST (Debian's dataset-fashion-mnist, installed by the test command)."""
    from trainables.data.mnist import find_idx_files

    if find_idx_files(REAL_FASHION) is None:
        pytest.fail("real Fashion-MNIST missing: run the README's test command (it installs dataset-fashion-mnist)")
    return REAL_FASHION


@pytest.fixture
def make_experiment(tmp_path: Path) -> Callable[..., Path]:
    """Write an experiment YAML under tmp_path; keyword sections are merged over small defaults."""

    def make(name: str = "exp", **sections: Any) -> Path:
        cfg: dict[str, Any] = {
            "name": name,
            "storage": str(tmp_path / "results"),
            "space": "lenet5",
            "dataset": {"name": "fashion_mnist", "train_subset": 1000, "val_fraction": 0.2},
            "budget": {"num_samples": 4, "max_epochs": 2, "grace_period": 1, "reduction_factor": 2},
            "search": {"seed": 0},
            "resources": {"cpus_per_trial": 1, "max_concurrent": 2},
        }
        for key, value in sections.items():
            if isinstance(value, dict) and isinstance(cfg.get(key), dict):
                cfg[key] = {**cfg[key], **value}
            else:
                cfg[key] = value
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        return path

    return make

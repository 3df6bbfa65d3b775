"""One short real search, run once per test session and shared by the monitoring tests.

Run through the CLI with its output captured in a non-TTY buffer, logging to TensorBoard
(Ray's default) and to an MLflow file store, so progress, status, TensorBoard and MLflow
tests all read the same results without paying for a search each.
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import yaml

NUM_SAMPLES = 3
MAX_EPOCHS = 2


@dataclass
class MonitoredSearch:
    path: Path          # the experiment folder
    output: str         # everything `hpsearch run` printed (stdout, not a TTY)
    returncode: int
    mlflow_uri: str
    name: str


def write_experiment(folder: Path, data_dir: Path, name: str, num_samples: int = NUM_SAMPLES) -> Path:
    cfg = {
        "name": name, "storage": str(folder / "results"), "space": "lenet5",
        "dataset": {"name": "fashion_mnist", "data_dir": str(data_dir), "val_fraction": 0.2},
        "budget": {"num_samples": num_samples, "max_epochs": MAX_EPOCHS, "grace_period": 1, "reduction_factor": 2},
        "search": {"seed": 0},
        "resources": {"cpus_per_trial": 1, "max_concurrent": 2},
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def monitored_search(folder: Path) -> MonitoredSearch:
    """Run `hpsearch run ... --progress-every 1 --mlflow file://...` on 600 generated images."""
    from search.cli import main
    from tests.conftest import synthetic_images
    from trainables.data.idx import write_idx

    data = folder / "idx"
    data.mkdir(parents=True)
    for prefix, n, seed in (("train", 600, 1), ("t10k", 200, 2)):
        x, y = synthetic_images(n, seed=seed)
        write_idx(data / f"{prefix}-images-idx3-ubyte.gz", x[:, 0])
        write_idx(data / f"{prefix}-labels-idx1-ubyte.gz", y.astype("uint8"))
    exp = write_experiment(folder, data, "monitored")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    buf = io.StringIO()  # not a TTY: the progress view must fall back to plain lines
    with contextlib.redirect_stdout(buf):
        rc = main(["run", str(exp), "--progress-every", "1", "--mlflow", uri])
    return MonitoredSearch(folder / "results" / "monitored", buf.getvalue(), rc, uri, "monitored")

"""A dataset of a gigabyte on a 3-raylet cluster: driver and per-node memory, and time to first trial,
with the data shipped from the driver (hpsearch before) and decoded on each node (hpsearch now).

A Fashion-MNIST-shaped IDX dataset of random uint8 images (`--gb` of training images) is written to a
temporary folder (deleted after). Each mode runs in a fresh process that starts a `ray.cluster_utils.Cluster`
of 3 raylets (1 CPU each) and runs 3 trials of hpsearch's trainable (`train_trial`, the mlp warm start, one
trial per node, each stopped by a 3 s first-epoch limit) through Ray Tune:
- driver: the driver loads and splits the data and hands the arrays to `tune.with_parameters`;
- nodes: the driver loads it once to check it (as `hpsearch run` does) and drops it, then hands trials a
  `DataSource`; each node's `NodeData` actor decodes it into that node's object store (`trainables.node_data`).
Sampled every 0.5 s: the driver's RSS, and each raylet's process tree PSS (its object store and the workers
on that node). Time to first trial: from the start of the data load to each trial's first report.

    PYTHONPATH=$PWD python -m benchmarks.large_dataset --gb 1.0     # ~1.1 GB; a few minutes
    PYTHONPATH=$PWD python -m benchmarks.large_dataset --quick      # 20 MB, checks the script works
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ._procmem import MiB, cmdline, descends_from, smaps_rollup
from ._report import arg_parser, markdown_table, write_results
from ._sampler import BackgroundSampler

MODES = ("driver", "nodes")
IMAGE_BYTES = 28 * 28


def write_dataset(folder: Path, gb: float, seed: int = 0) -> int:
    """Four uncompressed IDX files of random images and labels; returns the number of training images."""
    from trainables.data.idx import write_idx

    rng = np.random.default_rng(seed)
    n = int(gb * 2**30 / IMAGE_BYTES)
    for prefix, count in (("train", n), ("t10k", max(1000, n // 50))):
        write_idx(folder / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (count, 28, 28), dtype=np.uint8))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte", rng.integers(0, 10, count, dtype=np.uint8))
    return n


class TreeSampler(BackgroundSampler):
    """Peak RSS and USS of this process (the driver) and peak PSS of each raylet's process tree (one per node).

    The driver's RSS counts the object-store pages it maps; its USS (private pages) is the data it holds itself.
    """

    def __init__(self, every_s: float = 0.5) -> None:
        super().__init__(every_s)
        self.driver_peak, self.driver_now = 0, 0
        self.driver_uss_peak, self.driver_uss_now = 0, 0
        self.node_peak: dict[int, int] = {}

    def sample(self) -> None:
        me = os.getpid()
        mine = smaps_rollup(me) or {"rss": 0, "uss": 0}
        self.driver_now, self.driver_uss_now = mine["rss"], mine["uss"]
        self.driver_peak = max(self.driver_peak, self.driver_now)
        self.driver_uss_peak = max(self.driver_uss_peak, self.driver_uss_now)
        pids = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]
        raylets = [p for p in pids if "/raylet/raylet" in cmdline(p) and descends_from(p, me)]
        for r in raylets:
            tree = [r] + [p for p in pids if descends_from(p, r)]
            pss = sum(m["pss"] for p in tree if (m := smaps_rollup(p)))
            self.node_peak[r] = max(self.node_peak.get(r, 0), pss)


def run_mode(mode: str, data_dir: str) -> dict[str, Any]:
    """One measured run (in its own process): 3 trials, one per raylet, with the data in `mode`."""
    import ray
    from ray.cluster_utils import Cluster

    from trainables.data.source import DataSource
    from trainables.loop import TrainSettings
    from trainables.node_data import start_loaders
    from trainables.ray_trainable import train_trial

    from .overhead import trivial_config

    with TreeSampler() as sampler:
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        for _ in range(2):
            cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, logging_level="ERROR", log_to_driver=False)
        t0 = time.time()
        source = DataSource("fashion_mnist", data_dir, {"download": False})
        _, data = source.load_split()  # `hpsearch run` loads it once to check it, in both modes
        load_s = time.time() - t0
        payload: Any = data if mode == "driver" else source
        loaders = start_loaders(source) if mode == "nodes" else []
        del data
        driver_before_fit = sampler.driver_uss_now
        first = _fit(train_trial, payload, TrainSettings(max_epochs=1, num_threads=1, max_epoch_seconds=3.0),
                     trivial_config())
        driver_in_fit = sampler.driver_uss_now
        del loaders
        ray.shutdown()
        cluster.shutdown()
    ttft = sorted(t - t0 for t in first.values())
    return {"mode": mode, "driver_load_s": load_s, "first_trial_s": ttft[0], "all_trials_s": ttft[-1],
            "trials_reported": len(ttft), "driver_peak_rss_mib": sampler.driver_peak / MiB,
            "driver_peak_uss_mib": sampler.driver_uss_peak / MiB, "driver_uss_before_fit_mib": driver_before_fit / MiB,
            "driver_uss_after_fit_mib": driver_in_fit / MiB,
            "node_peak_pss_mib": sorted(v / MiB for v in sampler.node_peak.values())}


def _fit(trainable: Any, payload: Any, settings: Any, config: dict[str, Any]) -> dict[str, float]:
    """Run 3 identical trials at once; the time of each trial's first report."""
    from ray import tune

    first: dict[str, float] = {}

    class FirstReport(tune.Callback):
        def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
            first.setdefault(trial.trial_id, time.time())

    fn = tune.with_resources(tune.with_parameters(trainable, data=payload, settings=settings), {"cpu": 1})
    with tempfile.TemporaryDirectory() as storage:
        tune.Tuner(fn, param_space=config, tune_config=tune.TuneConfig(num_samples=3, max_concurrent_trials=3),
                   run_config=tune.RunConfig(name="large", storage_path=storage, verbose=0,
                                             callbacks=[FirstReport()])).fit()
    return first


def measure(data_dir: str, mode: str) -> dict[str, Any]:
    """`run_mode` in a fresh Python process, so one mode's memory never shows in the other's."""
    code = f"import json; from benchmarks.large_dataset import run_mode; print(json.dumps(run_mode({mode!r}, {data_dir!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    if out.returncode != 0:  # e.g. Ray's memory monitor killed a worker: say so, keep the other mode's numbers
        print(out.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"mode {mode} failed (exit {out.returncode})")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(result), flush=True)
    return result


def main() -> None:
    p = arg_parser(__doc__.splitlines()[0])
    p.add_argument("--gb", type=float, default=1.0, help="size of the training images in GiB")
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="which data paths to measure")
    args = p.parse_args()
    gb = 0.02 if args.quick else args.gb
    folder = Path(tempfile.mkdtemp(prefix="hpsearch-large-"))
    try:
        images = write_dataset(folder, gb)
        load = os.getloadavg()
        runs = [measure(str(folder), mode) for mode in args.modes]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = [[r["mode"], r["driver_load_s"], r["first_trial_s"], r["all_trials_s"], r["driver_peak_uss_mib"],
             r["driver_uss_after_fit_mib"], " / ".join(f"{v:,.0f}" for v in r["node_peak_pss_mib"])] for r in runs]
    table = markdown_table(["data", "driver load s", "first trial s", "all 3 trials s", "driver peak USS MiB",
                            "driver USS at search end MiB", "per-node peak PSS MiB"], rows)
    write_results("large_dataset", args.out, {"gb": gb, "train_images": images, "load_average_at_start": load,
                                              "runs": runs}, table, args.quick)


if __name__ == "__main__":
    main()

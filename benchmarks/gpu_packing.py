"""GPU packing: trials per hour and GPU utilisation with 1, 2, 4 and 8 trials sharing one GPU.

The same small trials (one fixed configuration of the cnn preset, so every trial does the same work) run
through hpsearch with `gpus_per_trial` = 1, 1/2, 1/4, 1/8 (each trial also gets its share of the CPUs).
While they run, `nvidia-smi` is sampled every half second for utilisation and memory. A small model
leaves most of a large GPU idle, so packing several trials should raise trials per hour until the GPU
is busy; the memory fit (trainables/memory_fit.py) keeps a packed trial inside its share.

Without a GPU the script measures nothing: `--quick` then packs 1 and 2 trials onto the CPUs instead,
to check the harness (CI), and the output says so.

    PYTHONPATH=$PWD python -m benchmarks.gpu_packing            # on a GPU machine: ~5-10 minutes
    PYTHONPATH=$PWD python -m benchmarks.gpu_packing --quick    # CI: ~1 minute, CPU only
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from ._report import arg_parser, markdown_table, write_results
from ._sampler import BackgroundSampler
from .overhead import FASHION_DIR, constant_space_file

PACKINGS = (1, 2, 4, 8)


def packed_config() -> dict[str, Any]:
    """A small VGG-style CNN (16-32 filters, batch 256): far from filling a modern GPU on its own."""
    return {"family": "cnn", "conv_blocks": 2, "filters_1": 16, "filters_2": 32, "convs_per_block": 1,
            "kernel_size": 3, "batch_norm": True, "block_dropout_1": 0.2, "block_dropout_2": 0.3,
            "dense_layers": 1, "dense_units": 128, "dense_dropout": 0.3, "activation": "relu",
            "optimizer": "adam", "lr": 1e-3, "weight_decay": 1e-6, "batch_size": 256, "schedule": "none"}


class GpuSampler(BackgroundSampler):
    """Samples `nvidia-smi` (utilisation %, memory used MiB) in a thread until stopped."""

    def __init__(self, every_s: float = 0.5) -> None:
        super().__init__(every_s)
        self.samples: list[tuple[float, float, float]] = []

    def sample(self) -> None:
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=utilization.gpu,memory.used",
                                  "--format=csv,noheader,nounits", "-i", "0"],
                                 capture_output=True, text=True, timeout=5).stdout.strip()
            util, mem = (float(v) for v in out.split(","))
            self.samples.append((time.time(), util, mem))
        except (OSError, ValueError, subprocess.SubprocessError):
            pass


def run_packed(k: int, gpu: bool, space_file: Path, a: Any, storage: Path) -> dict[str, Any]:
    """`a.trials` identical trials with k of them sharing the GPU (or, without one, the CPUs)."""
    from search.config import parse_config
    from search.experiment_dir import save_experiment_files
    from search.launch import build_tuner, prepare

    cpus = os.cpu_count() or 1
    resources = ({"gpus_per_trial": 1 / k, "cpus_per_trial": max(1, cpus // k), "max_concurrent": k} if gpu else
                 {"gpus_per_trial": 0, "cpus_per_trial": max(1, a.cpus // k), "max_concurrent": k})
    raw = {"name": f"pack{k}-{time.time_ns()}", "space": str(space_file), "storage": str(storage),
           "dataset": {"name": "fashion_mnist", "data_dir": a.data_dir, "train_subset": a.images,
                       "options": {"download": False}},
           "budget": {"num_samples": a.trials, "max_epochs": a.epochs}, "search": {"warm_start": False},
           "resources": resources}
    prep = prepare(parse_config(raw, "<gpu_packing benchmark>"))
    save_experiment_files(prep.path, prep.cfg.to_dict(), prep.space)
    sampler = GpuSampler() if gpu else None
    t0 = time.perf_counter()
    if sampler:
        with sampler:
            results = list(build_tuner(prep).fit())
    else:
        results = list(build_tuner(prep).fit())
    wall = time.perf_counter() - t0
    done = sum(1 for r in results if r.metrics and r.metrics.get("epoch") == a.epochs)
    row: dict[str, Any] = {"trials_per_gpu": k, "resources": resources, "trials": a.trials, "completed": done,
                           "wall_s": wall, "trials_per_hour": 3600 * done / wall}
    if sampler and sampler.samples:
        utils = [u for _, u, _ in sampler.samples]
        row.update(gpu_util_mean_pct=statistics.fmean(utils), gpu_util_median_pct=statistics.median(utils),
                   gpu_mem_peak_mib=max(m for _, _, m in sampler.samples), samples=len(utils))
    return row


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = arg_parser(__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=16, help="trials per packing level")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--images", type=int, default=None, help="training subset (default: all 60,000)")
    p.add_argument("--packings", type=int, nargs="+", default=list(PACKINGS))
    p.add_argument("--cpus", type=int, default=os.cpu_count() or 1, help="CPUs shared out without a GPU")
    p.add_argument("--data-dir", default=FASHION_DIR)
    args = p.parse_args(argv)
    import ray
    import torch

    gpu = torch.cuda.is_available()
    if not gpu and not args.quick:
        raise SystemExit("gpu_packing: no CUDA GPU here, nothing to measure (--quick checks the harness on CPUs)")
    if args.quick:
        args.trials, args.epochs, args.images = 2, 1, 300
        args.packings = [1, 2]
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    work = Path(tempfile.mkdtemp(prefix="hpsearch-packing-"))
    try:
        space_file = constant_space_file(work, packed_config())
        if not ray.is_initialized():
            ray.init(address="local", include_dashboard=False, log_to_driver=False,
                     **({} if gpu else {"num_cpus": args.cpus}))
        rows = [run_packed(k, gpu, space_file, args, work) for k in args.packings]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = rows[0]["trials_per_hour"]
    table = markdown_table(
        ["trials per " + ("GPU" if gpu else "CPU pool"), "trials", "completed", "wall s", "trials / hour",
         "vs 1 per GPU", "GPU util % (mean)", "GPU memory peak MiB"],
        [[r["trials_per_gpu"], r["trials"], r["completed"], r["wall_s"], r["trials_per_hour"],
          r["trials_per_hour"] / base if base else float("nan"),
          r.get("gpu_util_mean_pct", "-"), r.get("gpu_mem_peak_mib", "-")] for r in rows])
    if not gpu:
        table += "\n\nNo GPU: trials were packed onto the CPUs to check the harness; these are not GPU figures."
    result = {"device": torch.cuda.get_device_name(0) if gpu else "cpu (no GPU)", "gpu": gpu,
              "epochs": args.epochs, "images": args.images, "results": rows}
    write_results("gpu_packing", args.out, result, table, args.quick)
    return result


if __name__ == "__main__":
    main()

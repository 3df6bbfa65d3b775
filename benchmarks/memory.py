"""Dataset memory: two concurrent trials on one node hold one copy of the dataset, measured.

Two modes, each running 2 trials of the same fixed MLP configuration at the same time:
- shared (hpsearch): `search.launch.run_experiment`; the driver loads the data once and Ray's
  object store hands every trial a zero-copy, read-only view of the same pages;
- own copy (baseline): a bare Ray Tune function that loads and splits the dataset itself, as a
  trainable without `tune.with_parameters` would.
Each trial's mapping of the object store (/dev/shm/plasma*) is read too: the shared run should show
the dataset resident in both trials, as pages shared between them (one physical copy).
While they run, a sampler reads /proc/<pid>/smaps_rollup of the trial worker processes (`ray::ImplicitFunc`)
and keeps the instant with both alive and the highest total PSS. USS counts only a process's private
pages; PSS splits shared pages among the processes mapping them, so a summed PSS counts a shared
dataset once.

    PYTHONPATH=$PWD python -m benchmarks.memory            # full Fashion-MNIST train set (47 MB); ~1 minute
    PYTHONPATH=$PWD python -m benchmarks.memory --quick    # CI: a 6,000-image subset
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from trainables.data import TrialData, load_dataset, make_trial_data
from trainables.loop import TrainSettings, run

from ._procmem import MiB, PeakSampler
from ._report import arg_parser, markdown_table, write_results
from .overhead import FASHION_DIR, constant_space_file, trivial_config

TRIAL_PROCESS = "ray::ImplicitFunc"  # how Ray titles the worker process of a function trainable


def own_copy_trial(config: dict[str, Any], data_dir: str, images: int | None, settings: TrainSettings) -> None:
    """A trainable that loads its own copy of the data (what hpsearch avoids)."""
    from ray import tune

    data = make_trial_data(load_dataset("fashion_mnist", data_dir, {"download": False}), 0.1, 0, images)
    run(config, data, settings, lambda report, state: tune.report(report.metrics()))


def run_own_copy(config: dict[str, Any], data_dir: str, images: int | None, epochs: int, storage: Path) -> None:
    from ray import tune

    settings = TrainSettings(max_epochs=epochs, num_threads=1)
    fn = tune.with_resources(tune.with_parameters(own_copy_trial, data_dir=data_dir, images=images,
                                                  settings=settings), {"cpu": 1})
    tune.Tuner(fn, param_space=config, tune_config=tune.TuneConfig(num_samples=2, max_concurrent_trials=2),
               run_config=tune.RunConfig(name=f"own-{time.time_ns()}", storage_path=str(storage), verbose=0)).fit()


def run_shared(space_file: Path, data_dir: str, images: int | None, epochs: int, storage: Path) -> None:
    from search.config import parse_config
    from search.launch import prepare, run_experiment

    raw = {"name": f"shared-{time.time_ns()}", "space": str(space_file), "storage": str(storage),
           "dataset": {"name": "fashion_mnist", "data_dir": data_dir, "train_subset": images,
                       "options": {"download": False}},
           "budget": {"num_samples": 2, "max_epochs": epochs}, "search": {"warm_start": False},
           "resources": {"cpus_per_trial": 1, "max_concurrent": 2}}
    run_experiment(prepare(parse_config(raw, "<memory benchmark>")))


def measure(mode: str, launch) -> dict[str, Any]:
    with PeakSampler(TRIAL_PROCESS) as sampler:
        launch()
    procs = list(sampler.best.values())
    keys = ("rss", "pss", "uss", "shm_rss", "shm_shared", "shm_private")
    return {"mode": mode, "trial_processes": len(procs),
            "per_process_mib": [{k: v / MiB for k, v in p.items()} for p in procs],
            **{f"sum_{k}_mib": sum(p[k] for p in procs) / MiB for k in keys}}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = arg_parser(__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=None, help="training subset (default: all 60,000)")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--data-dir", default=FASHION_DIR)
    args = p.parse_args(argv)
    if args.quick:
        args.images = 6000
    import ray

    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    data: TrialData = make_trial_data(load_dataset("fashion_mnist", args.data_dir, {"download": False}),
                                      0.1, 0, args.images)
    dataset_mib = sum(a.nbytes for a in (data.x_train, data.y_train, data.x_val, data.y_val)) / MiB
    config = trivial_config()
    work = Path(tempfile.mkdtemp(prefix="hpsearch-memory-"))
    try:
        if not ray.is_initialized():
            # address="local": a private Ray, never another session's cluster on this shared machine
            ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        space_file = constant_space_file(work, config)
        a = args
        rows = [measure("shared (hpsearch)", lambda: run_shared(space_file, a.data_dir, a.images, a.epochs, work)),
                measure("own copy per trial", lambda: run_own_copy(config, a.data_dir, a.images, a.epochs, work))]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    shared, own = rows
    # private memory the own-copy trials hold beyond the shared ones, in units of the dataset
    extra_copies = (own["sum_uss_mib"] - shared["sum_uss_mib"]) / dataset_mib
    result = {"dataset_mib": dataset_mib, "train_images": len(data.y_train), "modes": rows,
              "extra_private_copies_without_sharing": extra_copies}
    table = markdown_table(
        ["mode", "trials alive", "sum RSS MiB", "sum PSS MiB", "sum USS (private) MiB",
         "object store resident MiB", "of which shared MiB"],
        [[r["mode"], r["trial_processes"], r["sum_rss_mib"], r["sum_pss_mib"], r["sum_uss_mib"],
          r["sum_shm_rss_mib"], r["sum_shm_shared_mib"]] for r in rows])
    table += (f"\n\nDataset (train + validation arrays): {dataset_mib:.1f} MiB. The own-copy trials hold "
              f"{extra_copies:.2f} dataset-sizes more private memory than the shared ones.")
    write_results("memory", args.out, result, table, args.quick)
    return result


if __name__ == "__main__":
    main()

"""Search-layer overhead: N identical trivial trials through hpsearch, through bare Ray Tune, and as pure compute.

Every trial trains the same fixed MLP configuration for one epoch on a tiny Fashion-MNIST subset,
so the three differ only in what wraps the compute:
- hpsearch: `search.launch.run_experiment` (Optuna TPE in SQLite, ASHA, per-epoch checkpoints,
  experiment files), with a space whose every parameter is a constant;
- bare Ray Tune: a `Tuner` over a function that calls the same `trainables.loop.run` and only
  `tune.report`s its metrics (no searcher, no scheduler, no checkpoints), same concurrency;
- pure compute: `trainables.loop.run` called in this process, no Ray at all.
Per-trial overhead is the slot time a trial occupies beyond its compute:
`(wall * concurrency - N * compute) / N`. hpsearch and bare Ray runs are interleaved.

    PYTHONPATH=$PWD python -m benchmarks.overhead            # full: ~2 minutes on 2 cores
    PYTHONPATH=$PWD python -m benchmarks.overhead --quick    # CI: ~30 s
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from spaces import get_preset
from trainables.data import TrialData, load_dataset, make_trial_data
from trainables.loop import TrainSettings, run

from ._report import arg_parser, markdown_table, median_spread, write_results

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def trivial_config() -> dict[str, Any]:
    """The mlp preset's warm-start configuration (512-256 MLP, batch 64)."""
    return {"family": "mlp", **get_preset("mlp").warm_start[0]}


def constant_space_file(folder: Path, config: dict[str, Any]) -> Path:
    """A space in which every parameter is a constant, so every hpsearch trial is the same trial."""
    params = {k: {"type": "const", "value": v} for k, v in config.items()}
    path = folder / "constant_mlp.yaml"
    path.write_text(yaml.safe_dump({"name": "constant_mlp", "params": params}, sort_keys=False))
    return path


def pure_compute(config: dict[str, Any], data: TrialData, settings: TrainSettings, n: int) -> list[float]:
    """Seconds per trial of `loop.run` alone, in this process."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        run(config, data, settings, lambda metrics, state: None)
        times.append(time.perf_counter() - t0)
    return times


def bare_trial(config: dict[str, Any], data: TrialData, settings: TrainSettings) -> None:
    """What a person writes with Ray Tune alone: train, report metrics."""
    from ray import tune

    run(config, data, settings, lambda metrics, state: tune.report(metrics))


def bare_ray(config: dict[str, Any], data: TrialData, settings: TrainSettings, n: int, concurrency: int,
             storage: Path) -> float:
    """Wall seconds of `n` trials through a plain Tuner (fixed config, default FIFO scheduler, no searcher)."""
    from ray import tune

    fn = tune.with_resources(tune.with_parameters(bare_trial, data=data, settings=settings), {"cpu": 1})
    tuner = tune.Tuner(fn, param_space=config,
                       tune_config=tune.TuneConfig(num_samples=n, max_concurrent_trials=concurrency),
                       run_config=tune.RunConfig(name=f"bare-{time.time_ns()}", storage_path=str(storage), verbose=0))
    t0 = time.perf_counter()
    tuner.fit()
    return time.perf_counter() - t0


def hpsearch(space_file: Path, data_subset: int, data_dir: str, n: int, concurrency: int, storage: Path) -> float:
    """Wall seconds of `n` trials through hpsearch's launch (data loading excluded, as for bare Ray)."""
    from search.config import parse_config
    from search.launch import prepare, run_experiment

    raw = {"name": f"hp-{time.time_ns()}", "space": str(space_file), "storage": str(storage),
           "dataset": {"name": "fashion_mnist", "data_dir": data_dir, "train_subset": data_subset,
                       "options": {"download": False}},
           "budget": {"num_samples": n, "max_epochs": 1},
           "search": {"warm_start": False},
           "resources": {"cpus_per_trial": 1, "max_concurrent": concurrency}}
    prep = prepare(parse_config(raw, "<overhead benchmark>"))
    t0 = time.perf_counter()
    run_experiment(prep)
    return time.perf_counter() - t0


def overhead_per_trial(wall: float, n: int, concurrency: int, compute: float) -> float:
    return (wall * concurrency - n * compute) / n


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = arg_parser(__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=12, help="trials per run")
    p.add_argument("--repeats", type=int, default=2, help="runs per wrapper, interleaved")
    p.add_argument("--images", type=int, default=500, help="training subset (before the 10%% validation split)")
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--data-dir", default=FASHION_DIR)
    args = p.parse_args(argv)
    if args.quick:
        args.trials, args.repeats, args.images = 4, 1, 200
    import ray

    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    config = trivial_config()
    settings = TrainSettings(max_epochs=1, num_threads=1)
    data = make_trial_data(load_dataset("fashion_mnist", args.data_dir, {"download": False}), 0.1, 0, args.images)
    work = Path(tempfile.mkdtemp(prefix="hpsearch-overhead-"))
    try:
        space_file = constant_space_file(work, config)
        compute = median_spread(pure_compute(config, data, settings, max(3, args.trials // 2)))
        if not ray.is_initialized():
            # address="local": a private Ray, never another session's cluster on this shared machine
            ray.init(address="local", num_cpus=args.concurrency, include_dashboard=False, log_to_driver=False)
        walls: dict[str, list[float]] = {"hpsearch": [], "bare_ray": []}
        for _ in range(args.repeats):  # interleaved, so machine load affects both alike
            walls["hpsearch"].append(hpsearch(space_file, args.images, args.data_dir, args.trials,
                                              args.concurrency, work))
            walls["bare_ray"].append(bare_ray(config, data, settings, args.trials, args.concurrency, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    c = compute["median"]
    rows, result = [], {"trials": args.trials, "concurrency": args.concurrency, "images": args.images,
                        "compute_s_per_trial": compute, "runs": {}}
    for name, w in walls.items():
        wall = median_spread(w)
        per = overhead_per_trial(wall["median"], args.trials, args.concurrency, c)
        result["runs"][name] = {"wall_s": wall, "wall_s_per_trial": wall["median"] / args.trials,
                                "overhead_s_per_trial": per}
        rows.append([name, args.trials, args.concurrency, wall["median"], wall["median"] / args.trials, c, per])
    rows.append(["pure compute", args.trials, 1, c * args.trials, c, c, 0.0])
    hp, bare = result["runs"]["hpsearch"]["wall_s"]["median"], result["runs"]["bare_ray"]["wall_s"]["median"]
    result["hpsearch_over_bare_ray_pct"] = 100 * (hp - bare) / bare
    result["hpsearch_extra_s_per_trial"] = (hp - bare) * args.concurrency / args.trials
    table = markdown_table(["wrapper", "trials", "concurrent", "wall s (median)", "wall s / trial",
                            "compute s / trial", "overhead s / trial"], rows)
    table += (f"\n\nhpsearch wall time over bare Ray Tune: {result['hpsearch_over_bare_ray_pct']:+.1f}% "
              f"({result['hpsearch_extra_s_per_trial']:+.2f} s of slot time per trial)")
    write_results("overhead", args.out, result, table, args.quick)
    return result


if __name__ == "__main__":
    main()

"""Search-layer overhead: N identical trivial trials through hpsearch, through bare Ray Tune, and as pure compute.

Every trial trains the same fixed MLP configuration for one epoch on a tiny Fashion-MNIST subset,
so the three differ only in what wraps the compute:
- hpsearch: `search.launch.run_experiment` (Optuna TPE in SQLite, ASHA, per-epoch checkpoints,
  experiment files), with a space whose every parameter is a constant;
- bare Ray Tune: a `Tuner` over a function that calls the same `trainables.loop.run` and only
  `tune.report`s its metrics (no searcher, no scheduler, no checkpoints), same concurrency, with
  Ray's defaults (`bare_ray`: a new worker process per trial) and with `reuse_actors=True` as
  hpsearch sets it (`bare_ray_reuse`: what is left is hpsearch's own cost);
- pure compute: `trainables.loop.run` called in this process, no Ray at all.
Per-trial overhead is the slot time a trial occupies beyond its compute:
`(wall * concurrency - N * compute) / N`. hpsearch and bare Ray runs are interleaved.

    PYTHONPATH=$PWD python -m benchmarks.overhead            # full: ~2 minutes on 2 cores
    PYTHONPATH=$PWD python -m benchmarks.overhead --quick    # CI: ~30 s
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
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

    run(config, data, settings, lambda report, state: tune.report(report.metrics()))


def bare_ray(config: dict[str, Any], data: TrialData, settings: TrainSettings, n: int, concurrency: int,
             storage: Path, reuse_actors: bool = False) -> float:
    """Wall seconds of `n` trials through a plain Tuner (fixed config, default FIFO scheduler, no searcher)."""
    from ray import tune

    fn = tune.with_resources(tune.with_parameters(bare_trial, data=data, settings=settings), {"cpu": 1})
    tuner = tune.Tuner(fn, param_space=config,
                       tune_config=tune.TuneConfig(num_samples=n, max_concurrent_trials=concurrency,
                                                           reuse_actors=reuse_actors),
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


def optuna_seconds(storage_for: Callable[[str], Any], space_name: str = "cnn", epochs: int = 4, n: int = 12) -> float:
    """Seconds per trial the search spends in Optuna for a real preset: ask, define-by-run suggestion of
    every parameter, one intermediate report per epoch, tell."""
    import optuna

    from spaces import define_by_run

    space_fn = define_by_run(get_preset(space_name), seed_key="seed")
    study = optuna.create_study(storage=storage_for(space_name), direction="maximize",
                                sampler=optuna.samplers.TPESampler(seed=0, constant_liar=True, multivariate=True,
                                                                   group=True, n_startup_trials=n))
    t0 = time.perf_counter()
    for _ in range(n):
        trial = study.ask()
        space_fn(trial)
        for epoch in range(1, epochs + 1):
            trial.report(0.5, epoch)
        study.tell(trial, 0.5)
    return (time.perf_counter() - t0) / n


def component_seconds(config: dict[str, Any], data: TrialData, n: int = 12) -> dict[str, float]:
    """Seconds per trial of hpsearch's own per-trial work, timed alone: Optuna for the cnn preset in
    hpsearch's SQLite file (WAL mode), in SQLite's default mode (as before WAL) and in memory; writing one
    epoch's checkpoint (model + optimizer state)."""
    import optuna
    import torch

    from search.searcher import study_storage
    from trainables.checkpoint import RngState, TrialState, save_state
    from trainables.loop import build
    from trainables.trial_config import parse_trial_config

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out: dict[str, float] = {"optuna_params": float(len(get_preset("cnn").params))}
    with tempfile.TemporaryDirectory() as folder:
        storages = {"optuna_sqlite_wal_s": lambda name: study_storage(f"{folder}/{name}-wal.db"),
                    "optuna_sqlite_default_s": lambda name: f"sqlite:///{folder}/{name}-default.db",
                    "optuna_memory_s": lambda name: None}
        for key, storage_for in storages.items():
            out[key] = optuna_seconds(storage_for, n=n)
        model, _, opt, sched = build(parse_trial_config(config), data, TrainSettings(max_epochs=1), torch.device("cpu"))
        model(torch.zeros(2, *data.in_shape)).sum().backward()
        opt.step()  # the optimizer state exists only after a step
        state = TrialState(config, 1, model.state_dict(), opt.state_dict(), sched.state_dict(), 0.0, 0,
                           RngState.capture(torch.Generator()), None)
        t0 = time.perf_counter()
        for i in range(n):
            (Path(folder) / f"ckpt{i}").mkdir()
            save_state(state, Path(folder) / f"ckpt{i}")
        out["checkpoint_write_s"] = (time.perf_counter() - t0) / n
        out["checkpoint_mib"] = sum(f.stat().st_size for f in (Path(folder) / "ckpt0").iterdir()) / 2**20
    return out


def overhead_per_trial(wall: float, n: int, concurrency: int, compute: float) -> float:
    return (wall * concurrency - n * compute) / n


def summarise(args: argparse.Namespace, walls: dict[str, list[float]], compute: dict[str, float],
              components: dict[str, float]) -> tuple[dict[str, Any], str]:
    """Overhead per trial for each wrapper (JSON) and the Markdown table with its notes."""
    c = compute["median"]
    rows, result = [], {"trials": args.trials, "concurrency": args.concurrency, "images": args.images,
                        "compute_s_per_trial": compute, "components_s_per_trial": components, "runs": {}}
    for name, w in walls.items():
        wall = median_spread(w)
        per = overhead_per_trial(wall["median"], args.trials, args.concurrency, c)
        result["runs"][name] = {"wall_s": wall, "wall_s_per_trial": wall["median"] / args.trials,
                                "overhead_s_per_trial": per}
        rows.append([name, args.trials, args.concurrency, wall["median"], wall["median"] / args.trials, c, per])
    rows.append(["pure compute", args.trials, 1, c * args.trials, c, c, 0.0])
    hp = result["runs"]["hpsearch"]["wall_s"]["median"]
    notes = []
    for name in ("bare_ray", "bare_ray_reuse"):
        bare = result["runs"][name]["wall_s"]["median"]
        result[f"hpsearch_over_{name}_pct"] = 100 * (hp - bare) / bare
        result[f"hpsearch_extra_s_per_trial_over_{name}"] = (hp - bare) * args.concurrency / args.trials
        notes.append(f"hpsearch wall time over {name}: {result[f'hpsearch_over_{name}_pct']:+.1f}% "
                     f"({result[f'hpsearch_extra_s_per_trial_over_{name}']:+.2f} s of slot time per trial)")
    table = markdown_table(["wrapper", "trials", "concurrent", "wall s (median)", "wall s / trial",
                            "compute s / trial", "overhead s / trial"], rows)
    ms = {k: v * 1000 for k, v in components.items()}
    notes.append(f"hpsearch's own per-trial work timed alone: Optuna for the cnn preset "
                 f"({components['optuna_params']:.0f} parameters; ask, suggest, 4 reports, tell) "
                 f"{ms['optuna_sqlite_wal_s']:.0f} ms in hpsearch's SQLite file (WAL), "
                 f"{ms['optuna_sqlite_default_s']:.0f} ms in SQLite's default mode, "
                 f"{ms['optuna_memory_s']:.1f} ms in memory; one checkpoint "
                 f"({components['checkpoint_mib']:.1f} MiB) written in {ms['checkpoint_write_s']:.0f} ms")
    table += "\n\n" + "\n".join(f"- {n}" for n in notes)
    return result, table


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = arg_parser(__doc__.splitlines()[0])
    p.add_argument("--trials", type=int, default=12, help="trials per run")
    p.add_argument("--repeats", type=int, default=2, help="runs per wrapper, interleaved")
    p.add_argument("--images", type=int, default=500, help="training subset (before the 10%% validation split)")
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--data-dir", default=FASHION_DIR)
    args = p.parse_args(argv)
    if args.quick:
        args.trials, args.repeats, args.images = 2, 1, 200
    import ray

    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    config = trivial_config()
    settings = TrainSettings(max_epochs=1, num_threads=1)
    data = make_trial_data(load_dataset("fashion_mnist", args.data_dir, {"download": False}), 0.1, 0, args.images)
    work = Path(tempfile.mkdtemp(prefix="hpsearch-overhead-"))
    try:
        space_file = constant_space_file(work, config)
        compute = median_spread(pure_compute(config, data, settings, max(3, args.trials // 2)))
        components = component_seconds(config, data)
        if not ray.is_initialized():
            # address="local": a private Ray, never another session's cluster on this shared machine
            ray.init(address="local", num_cpus=args.concurrency, include_dashboard=False, log_to_driver=False)
        wrappers = {
            "hpsearch": lambda: hpsearch(space_file, args.images, args.data_dir, args.trials, args.concurrency, work),
            "bare_ray": lambda: bare_ray(config, data, settings, args.trials, args.concurrency, work),
            "bare_ray_reuse": lambda: bare_ray(config, data, settings, args.trials, args.concurrency, work, True),
        }
        walls: dict[str, list[float]] = {name: [] for name in wrappers}
        for _ in range(args.repeats):  # interleaved, so machine load affects all alike
            for name, launch in wrappers.items():
                walls[name].append(launch())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result, table = summarise(args, walls, compute, components)
    write_results("overhead", args.out, result, table, args.quick)
    return result


if __name__ == "__main__":
    main()

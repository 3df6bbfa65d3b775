"""Build (or extend) a replay table: train N sampled configurations with the real loop, one row per epoch.

Configurations: the space's warm starts first, then a seeded uniform sample (Optuna's RandomSampler over
the space's define-by-run function, as hpsearch compiles it). Each is trained with `trainables.loop.run`
on real data (train/validation split as hpsearch makes it; test accuracy measured after every epoch for
the study, never used to choose). Resumable: configurations already in the table are skipped (the
sample is regenerated from the seed and must match); rows are appended as each configuration finishes.

    PYTHONPATH=$PWD python -m benchmarks.replay.build_table --space lenet5 --configs 6 --epochs 2 \\
        --train-subset 3000 --test-subset 2000 --out benchmarks/replay/tables/smoke_lenet5
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from spaces import Constant, Space, define_by_run, resolve_space
from trainables import metrics as M
from trainables.data import load_dataset, make_trial_data, test_split
from trainables.data.split import stratified_subset

from . import table as T

SEED_KEY = "seed"


def sample_configs(space: Space, n: int, seed: int) -> list[dict[str, Any]]:
    """The space's warm starts, then uniform samples, each with its constants and a training seed."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    consts = {p.name: p.value for p in space.params if isinstance(p, Constant)}
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    fn = define_by_run(space)
    configs = [{**consts, **point} for point in space.warm_start][:n]
    while len(configs) < n:
        trial = study.ask()
        constants = fn(trial)  # suggests the parameters first: trial.params is filled by this call
        configs.append({**trial.params, **constants})
        study.tell(trial, 0.0)
    return [{**c, SEED_KEY: seed * 100_003 + i} for i, c in enumerate(configs)]


def train_curve(config_id: int, config: dict[str, Any], data: Any, test: tuple[np.ndarray, np.ndarray],
                epochs: int, threads: int) -> list[dict[str, Any]]:
    """Train one configuration; one table row per epoch (test accuracy from the epoch's weights)."""
    import torch

    from trainables.checkpoint import TrialState
    from trainables.loop import TrainSettings, build, evaluate, run, to_device_uint8
    from trainables.metrics import EpochReport
    from trainables.trial_config import parse_trial_config

    settings = TrainSettings(max_epochs=epochs, seed=int(config[SEED_KEY]), device="cpu", num_threads=threads)
    typed = parse_trial_config(config)
    model, pre, _, _ = build(typed, data, settings, torch.device("cpu"))  # a copy to evaluate on the test set
    x_te, y_te = to_device_uint8(test[0], torch.device("cpu")), torch.from_numpy(np.asarray(test[1]))
    rows: list[dict[str, Any]] = []

    def report(rep: EpochReport, state: TrialState | None) -> None:
        result = rep.metrics()
        epoch = int(result[M.EPOCH])
        test_acc = math.nan
        if state is not None:
            model.load_state_dict(state.model)
            test_acc = evaluate(model, pre, x_te, y_te, typed, len(data.class_names))[M.VAL_ACC]
        rows.append({"config_id": config_id, "config": T.config_json(config), "step": epoch, "epoch": float(epoch),
                     "train_images_seen": epoch * len(data.y_train), "val_acc": result[M.VAL_ACC],
                     "test_acc": test_acc, "wall_seconds": result.get(M.EPOCH_SECONDS, math.nan),
                     "stopped_by": "diverged" if result.get(M.DIVERGED) else str(result.get(M.STOPPED_BY, ""))})

    run(config, data, settings, report)
    return [r for r in rows if r["step"] >= 1]


def load_split(args: argparse.Namespace) -> tuple[Any, tuple[np.ndarray, np.ndarray]]:
    """hpsearch's train/validation split (seeded, stratified) and the (optionally subsampled) test set."""
    raw = test_split(load_dataset(args.dataset, args.data_dir, {}), 0.1, args.seed)
    data = make_trial_data(raw, args.val_fraction, args.seed, args.train_subset)
    x_te, y_te = raw.x_test, raw.y_test
    if args.test_subset and args.test_subset < len(y_te):
        keep = stratified_subset(y_te, args.test_subset, args.seed)
        x_te, y_te = x_te[keep], y_te[keep]
    return data, (x_te, y_te)


def build_table(args: argparse.Namespace) -> Path:
    space = resolve_space(args.space)
    configs = sample_configs(space, args.configs, args.seed)
    done = T.read_rows(args.out)
    for cid, cfg_json in done.groupby("config_id")["config"].first().items():
        if cid >= len(configs) or cfg_json != T.config_json(configs[cid]):
            raise SystemExit(f"{args.out}: config {cid} differs from this build's sample (other --space/--seed?)")
    data, test = load_split(args)
    meta = {"space": space.raw, "space_ref": args.space, "dataset": args.dataset, "train_images": len(data.y_train),
            "val_images": len(data.y_val), "test_images": len(test[1]), "epochs": args.epochs, "seed": args.seed,
            "threads_per_config": args.threads, "machine": f"{platform.machine()} {os.cpu_count()} cores",
            "step": "one epoch"}
    previous = T.read_meta(args.out) if T.paths(args.out)[1].exists() else {}
    meta["build_seconds"] = previous.get("build_seconds", 0.0)
    T.write_meta(args.out, meta)
    todo = [i for i in range(len(configs)) if i not in set(done["config_id"])]
    t0 = time.perf_counter()
    for i in todo:
        rows = train_curve(i, configs[i], data, test, args.epochs, args.threads)
        T.append_rows(args.out, rows)
        meta["build_seconds"] += sum(r["wall_seconds"] for r in rows)  # training time, as a 1-thread worker spends it
        T.write_meta(args.out, meta)
        print(f"config {i}: val_acc {[round(r['val_acc'], 4) for r in rows]} "
              f"({sum(r['wall_seconds'] for r in rows):.1f} s)", flush=True)
    print(f"{len(todo)} configuration(s) trained in {time.perf_counter() - t0:.0f} s; "
          f"table {T.paths(args.out)[0]} ({T.paths(args.out)[0].stat().st_size} bytes)")
    return T.paths(args.out)[0]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--space", required=True, help="preset name or space YAML path")
    ap.add_argument("--configs", type=int, required=True, help="configurations in the table (warm starts first)")
    ap.add_argument("--epochs", type=int, required=True, help="epochs per configuration (one step each)")
    ap.add_argument("--out", required=True, help="table path stem (writes STEM.csv.gz and STEM.meta.json)")
    ap.add_argument("--dataset", default="fashion_mnist")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--train-subset", type=int, default=None, help="training+validation images (stratified)")
    ap.add_argument("--test-subset", type=int, default=None, help="test images (stratified)")
    ap.add_argument("--val-fraction", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    return ap.parse_args(argv)


if __name__ == "__main__":
    build_table(parse_args())

"""Search efficiency on real Fashion-MNIST: the best held-out test accuracy each method reaches in the
same wall-clock budget, over several seeds.

Methods (all on the same data, 1 CPU per trial, the same number of concurrent trials, and all reusing
trial worker processes as hpsearch does, so the comparison is of search strategies, not of start-up costs):
- hpsearch: its own Tuner (`search.launch.build_tuner`): TPE (warm-started from the space) + ASHA;
- random: Optuna's RandomSampler over the same space, every trial to max_epochs (no early stopping);
- ofat: the hand-tuning notebooks' one-factor-at-a-time grid (filters, dropout, optimizer, lr,
  batch size), from the space's warm-start config, every trial to max_epochs.
Each method's model is the checkpoint with the best *validation* accuracy reached within the
budget; its accuracy on the untouched test set is the score. The curve records, against time,
the best validation accuracy found so far (test accuracy is measured once, for the final pick).

    PYTHONPATH=$PWD python -m benchmarks.search_efficiency --budget 600 --seeds 0 1 2   # the issue's run: ~90 min
    PYTHONPATH=$PWD python -m benchmarks.search_efficiency --quick                      # CI: under a minute
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from search.launch import checkpoint_config
from spaces import Constant, resolve_space
from trainables.checkpoint import load_state, trained_model
from trainables.data import TrialData, load_dataset, make_trial_data
from trainables.loop import TrainSettings, predict_logits
from trainables.preprocess import normalisation_for

from ._ofat import FACTORS, stage_configs
from ._report import arg_parser, markdown_table, median_spread, write_results
from .overhead import FASHION_DIR

METRIC = "val_acc"
METHODS = ("hpsearch", "random", "ofat")
CPU_SPACE = Path(__file__).resolve().parent / "spaces" / "fashion_cnn_cpu.yaml"
HAND_TUNED_LENET5 = 0.883  # what our users reach by hand on Fashion-MNIST (LeNet-5, 10 epochs)


def _trainable(data: TrialData, settings: TrainSettings, fn: Callable | None = None):
    from ray import tune

    from trainables.ray_trainable import train_trial

    return tune.with_resources(tune.with_parameters(fn or train_trial, data=data, settings=settings, metric=METRIC),
                               {"cpu": 1})


def run_hpsearch(a: Any, seed: int, budget: float, storage: Path) -> list:
    from search.config import parse_config
    from search.experiment_dir import save_experiment_files
    from search.launch import Prepared, build_tuner, prepare

    raw = {"name": f"hpsearch-s{seed}-{time.time_ns()}", "space": a.space, "storage": str(storage),
           "dataset": {"name": "fashion_mnist", "data_dir": a.data_dir, "train_subset": a.train_subset,
                       "options": {"download": False}},
           "budget": {"num_samples": 100_000, "max_epochs": a.max_epochs, "time_budget_s": budget},
           "search": {"seed": seed}, "resources": {"cpus_per_trial": 1, "max_concurrent": a.concurrency}}
    prep: Prepared = prepare(parse_config(raw, "<search_efficiency benchmark>"))
    save_experiment_files(prep.path, prep.cfg.to_dict(), prep.space)
    return list(build_tuner(prep).fit())


def run_random(a: Any, seed: int, budget: float, storage: Path, data: TrialData) -> list:
    import optuna
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    from spaces import define_by_run

    space = resolve_space(a.space)
    searcher = OptunaSearch(space=define_by_run(space, seed_key="seed", seed_base=seed * 100_003), metric=METRIC,
                            mode="max", sampler=optuna.samplers.RandomSampler(seed=seed))
    tuner = tune.Tuner(_trainable(data, TrainSettings(max_epochs=a.max_epochs, seed=seed, num_threads=1)),
                       tune_config=tune.TuneConfig(metric=METRIC, mode="max", search_alg=searcher, num_samples=100_000,
                                                   max_concurrent_trials=a.concurrency, time_budget_s=budget,
                                                   reuse_actors=True),
                       run_config=tune.RunConfig(name=f"random-s{seed}-{time.time_ns()}", storage_path=str(storage),
                                                 checkpoint_config=checkpoint_config(METRIC, "max"), verbose=0))
    return list(tuner.fit())


def run_ofat(a: Any, seed: int, budget: float, storage: Path, data: TrialData) -> list:
    """Stage after stage while time is left; each stage runs its configs to max_epochs, keeps the best."""
    from ray import tune

    space = resolve_space(a.space)
    constants = {p.name: p.value for p in space.params if isinstance(p, Constant)}  # e.g. family
    best_cfg = {**constants, **space.warm_start[0], "seed": seed}
    best_acc, results, t0, first = -math.inf, [], time.time(), True
    for factor in FACTORS:
        configs = ([best_cfg] if first else []) + stage_configs(space, factor, best_cfg)
        first, left = False, budget - (time.time() - t0)
        if not configs or left <= 1:
            continue
        settings = TrainSettings(max_epochs=a.max_epochs, seed=seed, num_threads=1)
        tuner = tune.Tuner(_trainable(data, settings, ofat_trial),
                           param_space={"ofat": tune.grid_search(configs)},
                           tune_config=tune.TuneConfig(metric=METRIC, mode="max", max_concurrent_trials=a.concurrency,
                                                       time_budget_s=left, reuse_actors=True),
                           run_config=tune.RunConfig(name=f"ofat-{factor}-s{seed}-{time.time_ns()}",
                                                     storage_path=str(storage), verbose=0,
                                                     checkpoint_config=checkpoint_config(METRIC, "max")))
        stage = list(tuner.fit())
        results += stage
        for r in stage:
            acc = _best_val(r)
            if acc > best_acc:
                best_acc, best_cfg = acc, dict(r.config["ofat"])
    return results


def ofat_trial(config: dict[str, Any], data: TrialData, settings: TrainSettings, metric: str = METRIC) -> None:
    """hpsearch's trial function on the grid point stored under config["ofat"]."""
    from trainables.ray_trainable import train_trial

    train_trial(config["ofat"] if "ofat" in config else config, data, settings, metric)


def _best_val(result: Any) -> float:
    df = result.metrics_dataframe
    if df is None or METRIC not in df or df[METRIC].dropna().empty:
        return -math.inf
    return float(df[METRIC].max())


def curve(results: list, t0: float) -> list[tuple[float, float]]:
    """(seconds since the method started, best validation accuracy so far), one point per improvement."""
    points = []
    for r in results:
        df = r.metrics_dataframe
        if df is None or METRIC not in df:
            continue
        points += [(float(t) - t0, float(v)) for t, v in zip(df["timestamp"], df[METRIC]) if np.isfinite(v)]
    out, best = [], -math.inf
    for t, v in sorted(points):
        if v > best:
            best = v
            out.append((max(t, 0.0), v))
    return out


def test_accuracy(results: list, x_test: np.ndarray, y_test: np.ndarray, data: TrialData) -> dict[str, Any]:
    """Test accuracy of the checkpoint with the best validation accuracy among all trials."""
    best = None
    for r in results:
        for ckpt, metrics in r.best_checkpoints or []:
            v = metrics.get(METRIC)
            if isinstance(v, (int, float)) and math.isfinite(v) and (best is None or v > best[1]):
                best = (ckpt, v)
    if best is None:
        return {"val_acc": math.nan, "test_acc": math.nan, "config": None}
    with best[0].as_directory() as folder:
        state = load_state(folder)
    model = trained_model(state.config, data.in_shape, data.num_classes, state.model)
    pre = state.preprocess or normalisation_for(model, data.mean, data.std)  # the trial's own preprocessing
    logits = predict_logits(model, pre.module(), torch.from_numpy(x_test))
    acc = float((logits.argmax(1).numpy() == y_test).mean())
    return {"val_acc": best[1], "test_acc": acc, "epoch": state.epoch, "config": state.config}


COLOURS = {"hpsearch": "tab:blue", "random": "tab:orange", "ofat": "tab:green"}


def plot_curves(runs: list[dict[str, Any]], budget: float, path: Path) -> Path:
    """Best validation accuracy found so far against time: one line per method and seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    labelled: set[str] = set()
    for r in runs:
        pts = [(t, 100 * v) for t, v in r["curve"] if v is not None]
        if not pts:
            continue
        ts, vs = [t for t, _ in pts] + [budget], [v for _, v in pts] + [pts[-1][1]]  # flat to the end
        label = None if r["method"] in labelled else r["method"]
        labelled.add(r["method"])
        ax.step([t / 60 for t in ts], vs, where="post", color=COLOURS.get(r["method"]), alpha=0.8, label=label)
    ax.axhline(100 * HAND_TUNED_LENET5, color="grey", ls="--", lw=1, label="hand-tuned LeNet-5 (test)")
    ax.set_xlabel("minutes since the method started")
    ax.set_ylabel("best validation accuracy so far (%)")
    ax.set_xlim(0, budget / 60)
    lows = [100 * v for r in runs for _, v in r["curve"] if v is not None]
    if lows:
        ax.set_ylim(max(min(lows), 100 * HAND_TUNED_LENET5 - 8) - 0.5, max(lows) + 0.5)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("Search efficiency on Fashion-MNIST (one line per seed)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_settings(a: Any) -> dict[str, Any]:
    """What makes runs comparable: recorded in the JSON, and checked by --merge."""
    return {"budget_s": a.budget, "space": a.space, "train_subset": a.train_subset, "max_epochs": a.max_epochs}


def merge_runs(args: Any, runs: list[dict[str, Any]], earlier: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """`runs` plus the earlier JSON's runs of the other methods on the same seeds; refuses other settings."""
    import json

    doc = json.loads(earlier.read_text())
    differ = {k: (doc.get(k), v) for k, v in run_settings(args).items() if doc.get(k) != v}
    if differ:
        raise SystemExit(f"--merge {earlier}: other settings (earlier, now): {differ}")
    taken = [r for r in doc["runs"] if r["method"] not in args.methods and r["seed"] in args.seeds]
    methods = sorted({r["method"] for r in taken}, key=METHODS.index)
    return runs + taken, {"json": str(earlier), "methods": methods, "command": doc.get("command"),
                          "finished_utc": doc.get("finished_utc")}


def build_parser() -> argparse.ArgumentParser:
    p = arg_parser(__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=600, help="wall-clock seconds per method and seed")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    p.add_argument("--space", default=str(CPU_SPACE),
                   help="a preset or space file; ofat starts from its warm-start config")
    p.add_argument("--train-subset", type=int, default=None,
                   help="training images before the validation split (default: all 60,000)")
    p.add_argument("--max-epochs", type=int, default=8)
    p.add_argument("--concurrency", type=int, default=2)
    p.add_argument("--test-images", type=int, default=None, help="score on the first N test images (default: all)")
    p.add_argument("--data-dir", default=FASHION_DIR)
    p.add_argument("--keep", action="store_true", help="keep every run's Ray results folder (printed at the end)")
    p.add_argument("--replot", metavar="JSON", help="only redraw the curves of an earlier run's JSON, next to it")
    p.add_argument("--merge", metavar="JSON", help="add the runs of the methods not run now (same seeds) from an "
                   "earlier run's JSON with the same budget, space, data and epochs, e.g. to re-run only hpsearch "
                   "after changing it")
    return p


def run_all(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every method for every seed, interleaved per seed so machine load drifts evenly over methods."""
    import ray

    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    raw = load_dataset("fashion_mnist", args.data_dir, {"download": False})
    x_test, y_test = raw.x_test[:args.test_images], raw.y_test[:args.test_images]
    work = Path(tempfile.mkdtemp(prefix="hpsearch-efficiency-"))
    if not ray.is_initialized():
        # address="local": a private Ray, never another session's cluster on this shared machine
        ray.init(address="local", num_cpus=args.concurrency, include_dashboard=False, log_to_driver=False)

    def data_for(seed: int) -> TrialData:  # the same split hpsearch makes for this seed
        return make_trial_data(raw, 0.1, seed, args.train_subset)

    runners: dict[str, Callable[..., list]] = {
        "hpsearch": lambda seed: run_hpsearch(args, seed, args.budget, work),
        "random": lambda seed: run_random(args, seed, args.budget, work, data_for(seed)),
        "ofat": lambda seed: run_ofat(args, seed, args.budget, work, data_for(seed)),
    }
    runs: list[dict[str, Any]] = []
    try:
        for seed in args.seeds:
            for method in args.methods:
                t0 = time.time()
                results = runners[method](seed)
                wall = time.time() - t0
                pick = test_accuracy(results, x_test, y_test, data_for(seed))
                runs.append({"method": method, "seed": seed, "wall_s": wall, "trials": len(results),
                             "epochs_trained": sum(len(r.metrics_dataframe) for r in results
                                                   if r.metrics_dataframe is not None),
                             **pick, "curve": curve(results, t0)})
    finally:
        if args.keep:
            print(f"results of every run kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return runs


def summarise(args: argparse.Namespace, runs: list[dict[str, Any]],
              merged_from: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
    """Per-method medians (JSON) and the Markdown table."""
    methods = [m for m in METHODS if any(r["method"] == m for r in runs)]
    summary, rows = {}, []
    for method in methods:
        accs = [r["test_acc"] for r in runs if r["method"] == method and math.isfinite(r["test_acc"])]
        trials = [r["trials"] for r in runs if r["method"] == method]
        summary[method] = {"test_acc": median_spread(accs) if accs else None,
                           "trials_median": statistics.median(trials)}
        if accs:
            s = summary[method]["test_acc"]
            rows.append([method, len(accs), 100 * s["median"], 100 * s["min"], 100 * s["max"],
                         100 * (s["median"] - HAND_TUNED_LENET5), statistics.median(trials)])
    table = markdown_table(["method", "seeds", "median test acc %", "min %", "max %", "vs 88.3% hand-tuned (points)",
                            "trials (median)"], rows)
    table += (f"\n\nBudget {args.budget:.0f} s per method and seed; space {Path(args.space).stem}; "
              f"{args.train_subset or 'all'} training images (10% of them held out for validation); "
              f"max {args.max_epochs} epochs; {args.concurrency} concurrent trials.")
    if merged_from:
        table += (f" Runs of {', '.join(merged_from['methods'])} come from an earlier invocation "
                  f"({merged_from['finished_utc']}, `{merged_from['command']}`).")
    return summary, table


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = build_parser().parse_args(argv)
    if args.replot:
        import json

        doc = json.loads(Path(args.replot).read_text())
        print(plot_curves(doc["runs"], doc["budget_s"], Path(args.replot).with_suffix(".png")))
        return doc
    if args.quick:
        # long enough for a trial's worker to start and finish an epoch on a busy 2-core machine (14 s was
        # not: in one CI run no trial of a method reported, so it had no model to test)
        args.budget, args.seeds, args.space, args.train_subset, args.max_epochs, args.test_images = \
            20, [0], "lenet5", 300, 1, 500
    runs = run_all(args)
    merged_from = None
    if args.merge:
        runs, merged_from = merge_runs(args, runs, Path(args.merge))
    summary, table = summarise(args, runs, merged_from)
    result = {**run_settings(args), "seeds": args.seeds, "summary": summary, "runs": runs,
              "merged_from": merged_from}
    write_results("search_efficiency", args.out, result, table, args.quick)
    plot_curves(runs, args.budget, Path(args.out) / "search_efficiency.png")
    return result


if __name__ == "__main__":
    main()

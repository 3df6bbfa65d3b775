"""Fidelity rank check: do cheap trainings rank configurations as the full training does?

N configurations of a space (its warm starts, then a seeded uniform sample, as `replay.build_table`
draws them) are each trained at every cheap fidelity (a stratified fraction of the training images,
a number of epochs, each with its own learning-rate schedule sized to that length) and at the full
one (all the training images, `--full-epochs`). The result is the Spearman rank correlation between
each cheap fidelity's validation accuracy and the full training's, with each fidelity's cost: what a
time-budgeted search needs to choose its smallest rungs. Validation is one fixed stratified hold-out
of the training split (the test set is never read); accuracy is the product's metric (flip TTA for
trials trained with flips); the full training also records accuracy with and without flip TTA.

    PYTHONPATH=$PWD python -m benchmarks.fidelity_rank --configs 16 --train-images 12000 --full-epochs 3 \\
        --out docs/benchmarks
"""
from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._report import arg_parser, markdown_table, write_results

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


@dataclass(frozen=True)
class Fidelity:
    fraction: float   # of the training images (stratified)
    epochs: int       # the schedule spans exactly these

    @property
    def name(self) -> str:
        return f"{self.fraction:g}x{self.epochs}ep"

    @property
    def cost(self) -> float:
        """In full-data epochs."""
        return self.fraction * self.epochs


def parse_args(argv: list[str] | None = None) -> Any:
    p = arg_parser(__doc__.splitlines()[0])
    p.add_argument("--space", default="resnet_cpu", help="preset name or space YAML")
    p.add_argument("--configs", type=int, default=16, help="configurations (warm starts first)")
    p.add_argument("--train-images", type=int, default=12_000, help="training images at full fidelity")
    p.add_argument("--val-images", type=int, default=3_000, help="validation images (stratified, fixed)")
    p.add_argument("--full-epochs", type=int, default=3)
    p.add_argument("--fractions", default="0.125,0.25,0.5,1", help="cheap fidelities' image fractions (1 epoch each)")
    p.add_argument("--precision", default="bf16", choices=("auto", "fp32", "bf16"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-seconds", type=float, default=None, help="start no new configuration after this long")
    p.add_argument("--data-dir", default=FASHION_DIR)
    a = p.parse_args(argv)
    if a.quick:
        a.configs, a.train_images, a.val_images, a.full_epochs, a.fractions = 3, 400, 200, 2, "0.5,1"
    return a


def fidelities(args: Any) -> tuple[list[Fidelity], Fidelity]:
    cheap = [Fidelity(float(f), 1) for f in args.fractions.split(",")]
    return cheap, Fidelity(1.0, args.full_epochs)


def load(args: Any) -> Any:
    """The full-fidelity training images and the fixed validation set, from Fashion-MNIST's training split."""
    from trainables.data import load_dataset, make_trial_data
    from trainables.data.split import stratified_subset

    raw = load_dataset("fashion_mnist", args.data_dir)
    data = make_trial_data(raw, 0.1, args.seed)
    keep = stratified_subset(data.y_train, args.train_images, args.seed)
    val = stratified_subset(data.y_val, args.val_images, args.seed)
    return _with(data, keep, val)


def _with(data: Any, train_idx: np.ndarray, val_idx: np.ndarray | None = None) -> Any:
    from trainables.data import TrialData

    xv, yv = (data.x_val, data.y_val) if val_idx is None else (data.x_val[val_idx], data.y_val[val_idx])
    return TrialData(np.ascontiguousarray(data.x_train[train_idx]), data.y_train[train_idx],
                     np.ascontiguousarray(xv), yv, data.class_names, data.mean, data.std, data.name)


def at_fraction(data: Any, fraction: float, seed: int) -> Any:
    """A stratified `fraction` of the training images, the same validation set and normalisation."""
    from trainables.data.split import stratified_subset

    if fraction >= 1:
        return data
    return _with(data, stratified_subset(data.y_train, max(20, int(round(fraction * len(data.y_train)))), seed))


def train_at(config: dict[str, Any], data: Any, fid: Fidelity, args: Any, both_tta: bool = False) -> dict[str, Any]:
    """Train `config` at `fid` (schedule sized to it); the last epoch's validation accuracy (`both_tta`: also
    with and without flip TTA), and the training's wall and CPU seconds."""
    import torch

    from trainables.checkpoint import trained_model
    from trainables.loop import TrainSettings, evaluate, run
    from trainables.preprocess import normalisation_for
    from trainables.trial_config import parse_trial_config

    sub = at_fraction(data, fid.fraction, args.seed)
    settings = TrainSettings(max_epochs=fid.epochs, schedule_epochs=fid.epochs, seed=int(config["seed"]),
                             device="cpu", num_threads=args.threads, precision=args.precision,
                             channels_last=args.precision == "bf16" or None)
    reports: list[Any] = []
    t0, c0 = time.perf_counter(), time.process_time()
    state = run(config, sub, settings, lambda r, _s: reports.append(r))
    row = {"fidelity": fid.name, "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
           "val_acc": reports[-1].val_acc if reports else math.nan}
    if both_tta and state is not None and not reports[-1].diverged:
        typed = parse_trial_config(config)
        model = trained_model(config, sub.in_shape, sub.num_classes, state.model)
        pre = (state.preprocess or normalisation_for(model, sub.mean, sub.std)).module()
        xv, yv = torch.from_numpy(sub.x_val), torch.from_numpy(np.asarray(sub.y_val))
        for key, tta in (("val_acc_plain", False), ("val_acc_flip_tta", True)):
            row[key] = evaluate(model, pre, xv, yv, typed, sub.num_classes, tta=tta)["val_acc"]
    return row


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation; a diverged training (NaN) ranks below every finite one."""
    from scipy.stats import spearmanr

    fill = lambda v: [x if math.isfinite(x) else -1.0 for x in v]  # noqa: E731
    return float(spearmanr(fill(a), fill(b)).statistic) if len(a) >= 3 else math.nan


def summarise(rows: list[dict[str, Any]], cheap: list[Fidelity], full: Fidelity) -> list[dict[str, Any]]:
    """Per cheap fidelity: Spearman vs full, top-k overlap, its cost (full-data epochs and CPU seconds)."""
    full_acc = [r[full.name]["val_acc"] for r in rows]
    best = set(np.argsort([-x if math.isfinite(x) else 1 for x in full_acc])[: max(1, len(rows) // 4)])
    out = []
    for fid in [*cheap, full]:
        acc = [r[fid.name]["val_acc"] for r in rows]
        top = set(np.argsort([-x if math.isfinite(x) else 1 for x in acc])[: len(best)])
        out.append({"fidelity": fid.name, "image_fraction": fid.fraction, "epochs": fid.epochs,
                    "cost_full_epochs": fid.cost, "spearman_vs_full": spearman(acc, full_acc),
                    "top_quarter_overlap": len(best & top) / len(best),
                    "median_val_acc": float(np.nanmedian(acc)) if any(map(math.isfinite, acc)) else math.nan,
                    "cpu_seconds_total": sum(r[fid.name]["cpu_seconds"] for r in rows)})
    return out


def tta_effect(rows: list[dict[str, Any]], full: Fidelity) -> dict[str, Any]:
    """Median (flip TTA - plain) validation accuracy at full fidelity, for flip-trained and other configs."""
    out: dict[str, Any] = {}
    for label, flipped in (("trained_with_hflip", True), ("trained_without_hflip", False)):
        d = [r[full.name]["val_acc_flip_tta"] - r[full.name]["val_acc_plain"] for r in rows
             if "val_acc_plain" in r[full.name] and (float(r["config"].get("aug_hflip", 0)) > 0) == flipped]
        out[label] = {"n": len(d), "median_gain_points": 100 * float(np.median(d)) if d else None,
                      "gains_points": [round(100 * x, 2) for x in d]}
    return out


def main(argv: list[str] | None = None) -> Path:
    from spaces import resolve_space

    from .replay.build_table import sample_configs

    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    cheap, full = fidelities(args)
    configs = sample_configs(resolve_space(args.space), args.configs, args.seed)
    data = load(args)
    load_start, t0, rows = os.getloadavg(), time.perf_counter(), []
    try:
        for i, config in enumerate(configs):
            if args.max_seconds and time.perf_counter() - t0 > args.max_seconds:
                print(f"--max-seconds reached: {len(rows)} of {len(configs)} configurations measured", flush=True)
                break
            rows.append(measure(config, data, cheap, full, args))
            print(f"config {i + 1}/{len(configs)} ({time.perf_counter() - t0:.0f} s): " + ", ".join(
                f"{f.name} {100 * rows[-1][f.name]['val_acc']:.2f}%" for f in [*cheap, full]), flush=True)
            _checkpoint(args, rows)
    except KeyboardInterrupt:  # Ctrl-C: keep what is measured (the configuration in progress is dropped)
        print(f"interrupted: {len(rows)} of {len(configs)} configurations measured", flush=True)
    return _write(args, rows, cheap, full, load_start, time.perf_counter() - t0)


def measure(config: dict[str, Any], data: Any, cheap: list[Fidelity], full: Fidelity, args: Any) -> dict[str, Any]:
    """One configuration at every fidelity."""
    row: dict[str, Any] = {"config": config}
    for fid in [*cheap, full]:
        row[fid.name] = train_at(config, data, fid, args, both_tta=fid == full)
        print(f"  {fid.name}: {row[fid.name]['cpu_seconds']:.1f} CPU-s", flush=True)
    return row


def _checkpoint(args: Any, rows: list[dict[str, Any]]) -> None:
    """The rows so far, so a long run cut short still leaves its measurements."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "fidelity_rank.partial.json").write_text(json.dumps(rows, indent=1, default=str) + "\n")


def _write(args: Any, rows: list[dict[str, Any]], cheap: list[Fidelity], full: Fidelity,
           load_start: tuple[float, float, float], seconds: float) -> Path:
    summary = summarise(rows, cheap, full) if rows else []
    table = markdown_table(["fidelity", "images", "epochs", "cost (full epochs)", "Spearman vs full",
                            "top-25% overlap", "median val acc", "CPU s (all configs)"],
                           [[s["fidelity"], f"{s['image_fraction'] * args.train_images:.0f}", s["epochs"],
                             s["cost_full_epochs"], s["spearman_vs_full"], s["top_quarter_overlap"],
                             s["median_val_acc"], s["cpu_seconds_total"]] for s in summary])
    result = {"args": {k: v for k, v in vars(args).items() if k != "out"}, "configs": len(rows),
              "train_images": args.train_images, "val_images": args.val_images, "wall_seconds": seconds,
              "load_avg_start": load_start, "load_avg_end": os.getloadavg(), "fidelities": summary,
              "flip_tta": tta_effect(rows, full), "rows": rows}
    path = write_results("fidelity_rank", args.out, result, table, args.quick)
    (Path(args.out) / "fidelity_rank.partial.json").unlink(missing_ok=True)
    return path


if __name__ == "__main__":
    main()

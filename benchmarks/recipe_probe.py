"""Recipe probe: how far the `resnet` family gets on real Fashion-MNIST with AdamW + one-cycle, per CPU-minute.

Trains on the training split minus a stratified 10% validation hold-out (the test set is never read),
with a one-cycle schedule stepped per batch and sized to the whole run, optional crop+flip
augmentation, and reports validation accuracy with and without flip test-time augmentation.

    PYTHONPATH=$PWD python -m benchmarks.recipe_probe --epochs 5 --width 16 --stages 3
    PYTHONPATH=$PWD python -m benchmarks.recipe_probe --train-subset 6000 --epochs 2 --bf16   # speed probe
"""
from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path
from typing import Any

import torch
from torch.optim.lr_scheduler import OneCycleLR

from trainables.data import TrialData, load_dataset, make_trial_data
from trainables.device_speed import StepOptions
from trainables.loop import Preprocess, evaluate, to_device_uint8, train_one_epoch
from trainables.models import build_model, count_parameters
from trainables.models.resnet import macs_per_image
from trainables.optimizers import make_optimizer
from trainables.trial_config import parse_trial_config
from trainables.tta import flip_tta_logits

from ._report import DEFAULT_OUT, hardware

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--width", type=int, default=16, help="channels of the first stage (resnet_width)")
    p.add_argument("--stages", type=int, default=3, help="resnet_stages")
    p.add_argument("--depth", type=int, default=1, help="blocks per stage (resnet_blocks)")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout before the head (head_dropout)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-2, help="one-cycle peak learning rate")
    p.add_argument("--weight-decay", type=float, default=1e-2, help="AdamW decoupled weight decay")
    p.add_argument("--augment", action="store_true", help="crop (pad 1) + horizontal flip while training")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast for the training forward pass")
    p.add_argument("--train-subset", type=int, default=None, help="training images before the split (speed probes)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=FASHION_DIR)
    p.add_argument("--tag", default=None, help="name of the JSON (default: from the settings)")
    p.add_argument("--out", default=str(DEFAULT_OUT))
    return p.parse_args(argv)


def config_from(args: argparse.Namespace) -> dict[str, Any]:
    """The run as an hpsearch trial config (so the preset's warm start can be copied from it)."""
    cfg: dict[str, Any] = {"family": "resnet", "resnet_width": args.width, "resnet_stages": args.stages,
                           "resnet_blocks": args.depth, "head_dropout": args.dropout, "optimizer": "adamw",
                           "lr": args.lr, "weight_decay": args.weight_decay, "batch_size": args.batch_size}
    if args.augment:
        cfg.update(aug_crop=1.0, aug_hflip=0.5)  # the fastai recipe: pad 1 and crop, mirror half the images
    return cfg


def load(args: argparse.Namespace) -> TrialData:
    """Train/validation split exactly as a search makes it (stratified 10% hold-out); the test set is not used."""
    raw = load_dataset("fashion_mnist", args.data_dir)
    return make_trial_data(raw, 0.1, args.seed, args.train_subset)


def train(args: argparse.Namespace, data: TrialData) -> dict[str, Any]:
    """The one-cycle run; per-epoch wall time, images/s and validation accuracy with and without flip TTA."""
    torch.manual_seed(args.seed)
    cfg = config_from(args)
    typed = parse_trial_config(cfg)
    model = build_model(cfg, data.in_shape, data.num_classes)
    info = {"params": count_parameters(model), "macs_per_image": macs_per_image(model, data.in_shape)}
    opts = StepOptions(bf16=args.bf16, channels_last=args.channels_last)
    if opts.channels_last:
        model = model.to(memory_format=torch.channels_last)
    pre = Preprocess(data.mean, data.std)
    opt = make_optimizer(model.parameters(), typed.optimizer)
    steps = args.epochs * math.ceil(len(data.y_train) / args.batch_size)
    # why per batch and sized to the whole run: a one-cycle schedule only works if it ends when training ends
    sched = OneCycleLR(opt, max_lr=args.lr, total_steps=steps)
    opt.register_step_post_hook(lambda *_: sched.step())  # reuse the trial's epoch loop, stepping lr per batch
    x, y = to_device_uint8(data.x_train, torch.device("cpu")), torch.from_numpy(data.y_train)
    xv, yv = to_device_uint8(data.x_val, torch.device("cpu")), torch.from_numpy(data.y_val)
    gen = torch.Generator().manual_seed(args.seed)
    epochs, train_s = [], 0.0
    for epoch in range(1, args.epochs + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        res = train_one_epoch(model, pre, opt, x, y, typed, gen, None, opts=opts)
        # why CPU time too: on a shared machine wall time measures the neighbours; CPU seconds measure our work
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        train_s += dt
        t1 = time.perf_counter()
        val = evaluate(model, pre, xv, yv, typed, data.num_classes)
        tta_acc = float((flip_tta_logits(model, pre, xv).argmax(1) == yv).float().mean())
        row = {"epoch": epoch, "train_seconds": dt, "train_cpu_seconds": cpu, "images_per_s": res["seen"] / dt,
               "train_loss": res["train_loss"],
               "val_acc": val["val_acc"], "val_acc_flip_tta": tta_acc, "eval_seconds": time.perf_counter() - t1}
        epochs.append(row)
        print(f"epoch {epoch}: {dt:.1f} s, {cpu:.1f} CPU-s ({row['images_per_s']:.0f} img/s), loss {row['train_loss']:.4f}, "
              f"val {100 * row['val_acc']:.2f}%, flip-TTA {100 * tta_acc:.2f}%", flush=True)
    return {**info, "config": cfg, "epochs": epochs, "train_seconds_total": train_s,
            "train_cpu_seconds_total": sum(r["train_cpu_seconds"] for r in epochs),
            "final_val_acc": epochs[-1]["val_acc"], "final_val_acc_flip_tta": epochs[-1]["val_acc_flip_tta"]}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    load_start, wall0 = os.getloadavg(), time.perf_counter()
    data = load(args)
    print(f"{len(data.y_train)} training / {len(data.y_val)} validation images; load average {load_start}", flush=True)
    result = train(args, data)
    tag = args.tag or (f"w{args.width}_s{args.stages}_b{args.depth}_e{args.epochs}_bs{args.batch_size}_t{args.threads}"
                       + ("_aug" if args.augment else "") + ("_bf16" if args.bf16 else "")
                       + ("_cl" if args.channels_last else "") + (f"_n{args.train_subset}" if args.train_subset else ""))
    doc = {"benchmark": "recipe_probe", "args": vars(args), "train_images": len(data.y_train),
           "val_images": len(data.y_val), "wall_seconds": time.perf_counter() - wall0,
           "load_avg_start": load_start, "load_avg_end": os.getloadavg(), "hardware": hardware(), **result}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"recipe_probe_{tag}.json"
    path.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"{path}: {result['params']:,} params, {result['macs_per_image'] / 1e6:.1f} M MACs/image, "
          f"{result['train_seconds_total']:.0f} s training, val {100 * result['final_val_acc']:.2f}% "
          f"(flip TTA {100 * result['final_val_acc_flip_tta']:.2f}%)")
    return doc


if __name__ == "__main__":
    main()

"""Trainable throughput: images/s of hpsearch's training epoch against a minimal hand-written PyTorch loop.

Same model (built by hpsearch's registry), same real Fashion-MNIST images, same batch size, same
optimizer. The two are measured interleaved (A B A B ...) and compared by their medians, so load
from other processes on a shared machine hits both alike.

    PYTHONPATH=$PWD python -m benchmarks.throughput            # full: ~1-2 minutes on 2 cores
    PYTHONPATH=$PWD python -m benchmarks.throughput --quick    # CI: a few seconds
On a GPU it also compares fp32, bf16 autocast, channels_last and cudnn.benchmark (`--variants`).
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from spaces import get_preset
from trainables.data import TrialData, load_dataset, make_trial_data
from trainables.device_speed import StepOptions, use_bf16, use_channels_last
from trainables.loop import TrainSettings, build, to_device_uint8, train_one_epoch
from trainables.models import build_model
from trainables.trial_config import parse_trial_config

from ._report import arg_parser, markdown_table, median_spread, write_results

FASHION_DIR = "/usr/share/datasets/fashion-mnist"


def preset_config(preset: str, batch_size: int) -> dict[str, Any]:
    """The preset's hand-tuned warm-start configuration, at `batch_size`."""
    space = get_preset(preset)
    return {"family": preset, **space.warm_start[0], "batch_size": batch_size}


# device options compared by --variants: (precision, channels_last, cudnn_benchmark); None = "auto"
VARIANTS = {"fp32": ("fp32", False, False), "fp32+cudnn_benchmark": ("fp32", False, True),
            "bf16+cudnn_benchmark": ("bf16", False, True), "bf16+channels_last+cudnn_benchmark": ("bf16", True, True)}


def trial_step_options(model: torch.nn.Module, device: torch.device, precision: str = "auto",
                       channels_last: bool | None = None, cudnn_benchmark: bool = True) -> StepOptions:
    """The step options a trial uses with these `resources` settings (defaults: on a CPU, plain fp32)."""
    opts = StepOptions(use_bf16(precision, device), use_channels_last(channels_last, model, device))
    if opts.channels_last:
        model.to(memory_format=torch.channels_last)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = cudnn_benchmark
    return opts


def hpsearch_epoch(config: dict[str, Any], data: TrialData, device: torch.device,
                   variant: tuple[str, bool | None, bool] = ("auto", None, True)) -> Callable[[], int]:
    """One training epoch exactly as a trial runs it (uint8 slices, Preprocess, registry loss, and the
    trial's device options: by default bf16 autocast and channels_last on a GPU)."""
    cfg = parse_trial_config(config)
    model, pre, opt, _ = build(cfg, data, TrainSettings(max_epochs=1), device)
    opts = trial_step_options(model, device, *variant)
    x, y = to_device_uint8(data.x_train, device), torch.from_numpy(data.y_train).to(device)
    gen = torch.Generator().manual_seed(0)

    def epoch() -> int:
        seen = train_one_epoch(model, pre, opt, x, y, cfg, gen, None, opts=opts)["seen"]
        if device.type == "cuda":
            torch.cuda.synchronize()
        return seen

    return epoch


def hand_epoch(config: dict[str, Any], data: TrialData, device: torch.device) -> Callable[[], int]:
    """The loop a person writes by hand: data pre-normalised to float once, then slice, step."""
    torch.manual_seed(0)
    model = build_model(config, data.in_shape, data.num_classes).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config["lr"], weight_decay=config["weight_decay"])
    mean, std = torch.tensor(data.mean).view(1, -1, 1, 1), torch.tensor(data.std).view(1, -1, 1, 1)
    x = ((torch.from_numpy(data.x_train).float() / 255 - mean) / std).to(device)
    y = torch.from_numpy(data.y_train).to(device)
    bs = config["batch_size"]

    def epoch() -> int:
        model.train()
        perm = torch.randperm(len(y), device=device)
        for i in range(0, len(y), bs):
            idx = perm[i:i + bs]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return len(y)

    return epoch


def measure(preset: str, data: TrialData, batch_size: int, repeats: int,
            device: torch.device) -> dict[str, Any]:
    config = preset_config(preset, batch_size)
    runners = {"hpsearch": hpsearch_epoch(config, data, device), "hand": hand_epoch(config, data, device)}
    for run in runners.values():  # warm-up: first-call allocations and kernel selection
        run()
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():  # interleaved: A B A B ...
            t0 = time.perf_counter()
            seen = run()
            rates[name].append(seen / (time.perf_counter() - t0))
    hp, hand = median_spread(rates["hpsearch"]), median_spread(rates["hand"])
    return {"preset": preset, "batch_size": batch_size, "images_per_epoch": len(data.y_train),
            "hpsearch_images_per_s": hp, "hand_images_per_s": hand, "ratio": hp["median"] / hand["median"],
            "per_repeat_ratio": [a / b for a, b in zip(rates["hpsearch"], rates["hand"])]}


def measure_variants(preset: str, data: TrialData, batch_size: int, repeats: int,
                     device: torch.device) -> dict[str, Any]:
    """hpsearch's epoch under each device option set (VARIANTS), interleaved; speed relative to fp32."""
    config = preset_config(preset, batch_size)
    rates: dict[str, list[float]] = {}
    for name, variant in VARIANTS.items():
        run = hpsearch_epoch(config, data, device, variant)
        run()  # warm-up (cuDNN autotuning happens here)
        rates[name] = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            seen = run()
            rates[name].append(seen / (time.perf_counter() - t0))
    base = median_spread(rates["fp32"])["median"]
    return {"preset": preset, "batch_size": batch_size,
            "variants": {n: {**median_spread(r), "vs_fp32": median_spread(r)["median"] / base} for n, r in rates.items()}}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = arg_parser(__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=3000, help="training images per measured epoch")
    p.add_argument("--repeats", type=int, default=5, help="measured epochs per side (after one warm-up)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (a trial gets cpus_per_trial)")
    p.add_argument("--data-dir", default=FASHION_DIR)
    p.add_argument("--variants", action=argparse.BooleanOptionalAction, default=None,
                   help="also compare fp32 / bf16 / channels_last / cudnn.benchmark (default: on a GPU only)")
    args = p.parse_args(argv)
    if args.quick:
        args.images, args.repeats = 300, 2
        args.variants = True if args.variants is None else args.variants  # CI exercises the code path on a CPU
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    raw = load_dataset("fashion_mnist", args.data_dir, {"download": False})
    data = make_trial_data(raw, 0.1, 0, args.images * 10 // 9)  # ~`images` left after the validation split
    rows = [measure(preset, data, args.batch_size, args.repeats, device) for preset in ("cnn", "lenet5")]
    table = markdown_table(
        ["model", "batch", "device", "threads", "hpsearch img/s (median)", "hand loop img/s (median)", "ratio"],
        [[r["preset"], r["batch_size"], device.type, args.threads, r["hpsearch_images_per_s"]["median"],
          r["hand_images_per_s"]["median"], r["ratio"]] for r in rows])
    result = {"device": device.type, "threads": args.threads, "repeats": args.repeats, "results": rows}
    if args.variants if args.variants is not None else device.type == "cuda":
        result["variants"] = [measure_variants(pre, data, args.batch_size, args.repeats, device)
                              for pre in ("cnn", "lenet5")]
        table += "\n\nhpsearch's epoch under each device option set (img/s, and relative to fp32):\n\n" + markdown_table(
            ["model", *VARIANTS], [[v["preset"], *(f"{x['median']:,.0f} ({x['vs_fp32']:.2f}x)"
                                                   for x in v["variants"].values())] for v in result["variants"]])
    write_results("throughput", args.out, result, table, args.quick)
    return result


if __name__ == "__main__":
    main()

"""The training loop, free of Ray: `run(config, data, settings, report)` trains one configuration.

Batches are sliced from uint8 tensors held on the device; augmentation is batched on tensors.
"""
from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from . import metrics as M
from .augment import augment
from .cost import inference_ms
from .data import TrialData
from .device_speed import StepOptions, autocast, prepare_device, to_memory_format, use_bf16, use_channels_last
from .losses import compute_loss
from .memory_fit import choose_micro_batch, cuda_step_peak, dataset_fits, gpu_budget_bytes
from .models import WeightSources, build_model, count_parameters
from .models.pretrained import env_offline
from .optimizers import make_optimizer
from .schedules import make_schedule, step_schedule
from .trial_config import TrialConfig, parse_trial_config

Report = Callable[[dict[str, Any], "dict[str, Any] | None"], None]  # (metrics, checkpoint state or None) -> None


@dataclass
class TrainSettings:
    """Experiment-level settings a trial needs besides its sampled config."""

    max_epochs: int
    seed: int = 0
    device: str | None = None          # None: cuda when visible, else cpu
    eval_batch_size: int = 1024
    num_threads: int | None = None     # CPU threads for this trial (defaults to its CPU share)
    class_weights: bool = False        # weight the loss by inverse class frequency
    sampling: str = "uniform"          # "balanced": draw every class equally often (with replacement)
    pretrained_weights: dict[str, str] = field(default_factory=dict)  # backbone name -> weights file
    hub_offline: bool = False          # never contact the Hugging Face hub for pretrained weights
    precision: str = "auto"            # "auto" (bf16 autocast on a GPU that supports it), "fp32", "bf16"
    channels_last: bool | None = None  # None: on for convolutional models on a GPU
    cudnn_benchmark: bool = True
    micro_batch: int | None = None     # force gradient accumulation over micro-batches of this size
    memory_fit: bool = True            # GPU: profile one step and shrink to micro-batches that fit
    gpu_fraction: float | None = None  # this trial's share of its GPU (gpus_per_trial < 1)
    max_epoch_seconds: float | None = None  # stop a fresh trial whose first epoch is projected to take longer

    def weight_sources(self) -> WeightSources:
        return WeightSources(dict(self.pretrained_weights), self.hub_offline or env_offline())


def pick_device(preferred: str | None = None) -> torch.device:
    return torch.device(preferred or ("cuda" if torch.cuda.is_available() else "cpu"))


def to_device_uint8(x: np.ndarray, device: torch.device) -> torch.Tensor:
    with warnings.catch_warnings():  # arrays from Ray's object store are read-only; we never write them
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(x).to(device)


class Preprocess(nn.Module):
    """uint8 -> float in [0, 1] -> (augment when training) -> normalised."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor, strengths: dict[str, float] | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        x = x.to(self.mean.device, non_blocking=True).float().div_(255)  # no-op when already there
        if strengths and generator is not None:
            x = augment(x, strengths, generator)
        return (x - self.mean) / self.std


def class_weight_tensor(y: np.ndarray, num_classes: int) -> torch.Tensor:
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    w = counts.sum() / np.maximum(counts, 1) / num_classes
    return torch.tensor(w, dtype=torch.float32)


def balanced_sample_weights(y: np.ndarray, num_classes: int) -> torch.Tensor:
    """Per-image draw weights that make every present class equally likely."""
    counts = np.bincount(y, minlength=num_classes).astype(np.float64)
    return torch.tensor(1.0 / counts[y], dtype=torch.float64)


def l1_penalty(model: nn.Module) -> torch.Tensor:
    return sum(p.abs().sum() for p in model.parameters() if p.dim() > 1 and p.requires_grad)  # type: ignore[return-value]


def train_one_epoch(model: nn.Module, pre: Preprocess, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                    config: TrialConfig, gen: torch.Generator, class_weights: torch.Tensor | None,
                    sample_weights: torch.Tensor | None = None, opts: StepOptions = StepOptions(),
                    time_limit: float | None = None) -> dict[str, float]:
    """One pass over shuffled (x, y), or len(y) draws by `sample_weights`. Stops at the first non-finite loss.

    With `opts.micro_batch`, each batch is split into chunks whose gradients are accumulated before the
    one optimizer step, so the effective batch is unchanged (batch norm sees the chunks' statistics).
    With `time_limit` (seconds), the pass stops as soon as its projected length exceeds the limit, and
    the result holds that projection under PROJECTED_EPOCH_SECONDS.
    """
    model.train()
    bs, l1, strengths = config.batch_size, config.l1, dict(config.augment)
    if sample_weights is None:
        perm = torch.randperm(len(y), generator=gen).to(x.device)
    else:
        perm = torch.multinomial(sample_weights, len(y), replacement=True, generator=gen).to(x.device)
    # y lives where the model computes; x may stay on the CPU when it does not fit the GPU
    total_loss, correct, seen, diverged, too_slow = 0.0, 0, 0, False, 0.0
    t0 = time.perf_counter()
    for i in range(0, len(perm), bs):
        idx = perm[i:i + bs]
        if len(idx) < 2:  # batch norm cannot train on a single sample
            continue
        micro = opts.micro_batch
        chunks = idx.tensor_split(math.ceil(len(idx) / micro)) if micro and micro < len(idx) else (idx,)
        opt.zero_grad(set_to_none=True)
        batch_loss = 0.0
        for part in chunks:
            xb, yb = to_memory_format(pre(x[part], strengths, gen), opts.channels_last), y[part.to(y.device)]
            with autocast(x.device, opts.bf16):
                logits = model(xb)
            loss = compute_loss(logits.float(), yb, config.loss, class_weights)
            if l1 > 0:
                loss = loss + l1 * l1_penalty(model)
            if not torch.isfinite(loss):
                diverged = True
                break
            share = len(part) / len(idx)
            (loss * share if len(chunks) > 1 else loss).backward()
            batch_loss += float(loss.detach()) * share
            correct += int((logits.detach().argmax(1) == yb).sum())
        if diverged:
            break
        opt.step()
        total_loss += batch_loss * len(idx)
        seen += len(idx)
        if time_limit is not None:
            projected = projected_seconds(time.perf_counter() - t0, seen, len(perm))
            if projected > time_limit:
                too_slow = projected
                break
    out = {M.TRAIN_LOSS: total_loss / max(seen, 1) if not diverged else math.nan,
           M.TRAIN_ACC: correct / max(seen, 1), "seen": seen, M.DIVERGED: int(diverged)}
    if too_slow:
        out[M.PROJECTED_EPOCH_SECONDS] = too_slow
    return out


def projected_seconds(elapsed: float, seen: int, total: int, min_elapsed: float = 2.0) -> float:
    """The whole pass's projected length from its first `seen` of `total` images; 0 until `min_elapsed`
    seconds have passed (the first batches include one-off start-up costs)."""
    if elapsed < min_elapsed and seen < total:
        return 0.0
    return elapsed / max(seen, 1) * total


@torch.no_grad()
def predict_logits(model: nn.Module, pre: Preprocess, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Logits for every image of x (uint8 on the model's device), in order."""
    model.eval()
    return torch.cat([model(pre(x[i:i + batch_size])).float() for i in range(0, len(x), batch_size)])


@torch.no_grad()
def evaluate(model: nn.Module, pre: Preprocess, x: torch.Tensor, y: torch.Tensor, config: TrialConfig,
             num_classes: int, batch_size: int = 1024) -> dict[str, float]:
    """Validation loss (the trial's own loss function), accuracy and macro F1."""
    logits = predict_logits(model, pre, x, batch_size)
    loss = float(compute_loss(logits, y, config.loss))
    preds = logits.argmax(1)
    conf = M.confusion_matrix(preds.cpu(), y.cpu(), num_classes)
    return {M.VAL_LOSS: loss, M.VAL_ACC: float((preds == y).float().mean()), M.VAL_F1: M.f1_macro(conf)}


def build(config: TrialConfig, data: TrialData, settings: TrainSettings, device: torch.device):
    """Model, preprocessing, optimizer and schedule for one configuration."""
    model = build_model(config, data.in_shape, data.num_classes, settings.weight_sources()).to(device)
    # a pretrained backbone brings its own normalisation (data_mean/data_std); others use the dataset's
    pre = Preprocess(getattr(model, "data_mean", data.mean), getattr(model, "data_std", data.std)).to(device)
    params = model.param_groups(config.optimizer.lr) if hasattr(model, "param_groups") else model.parameters()
    opt = make_optimizer(params, config.optimizer)
    sched = make_schedule(opt, config.schedule, settings.max_epochs)
    return model, pre, opt, sched


def run(config: dict[str, Any], data: TrialData, settings: TrainSettings, report: Report,
        start: dict[str, Any] | None = None) -> None:
    """Train `config` on `data`, calling `report(metrics, state)` after every epoch.

    `start` is a state dict previously passed to `report` (a checkpoint); training continues
    at the epoch after it, with model, optimizer, schedule and RNG exactly as they were.

    Example:
        >>> run({"family": "lenet5"}, data, TrainSettings(max_epochs=1), print)  # doctest: +SKIP
    """
    cfg = parse_trial_config(config)  # the boundary: Ray's flat dict becomes the typed config here
    if settings.num_threads:
        torch.set_num_threads(settings.num_threads)
    device = pick_device(settings.device)
    seed = settings.seed if cfg.seed is None else cfg.seed
    torch.manual_seed(seed)
    model, pre, opt, sched = build(cfg, data, settings, device)
    prepare_device(device, settings.cudnn_benchmark, settings.gpu_fraction)
    bf16, channels_last = use_bf16(settings.precision, device), use_channels_last(settings.channels_last, model, device)
    if channels_last:
        model.to(memory_format=torch.channels_last)  # in place: the optimizer keeps the same parameters
    gen = torch.Generator(device="cpu").manual_seed(seed)
    epoch, best, bad_epochs = 0, math.inf, 0
    if start is not None:
        model.load_state_dict(start["model"])
        opt.load_state_dict(start["optimizer"])
        sched.load_state_dict(start["schedule"])
        gen.set_state(start["rng"]["generator"])
        torch.set_rng_state(start["rng"]["torch"])
        epoch, best, bad_epochs = start["epoch"], start["best_val_loss"], start["bad_epochs"]

    # images resident on the GPU when they fit the trial's share, else sliced on the CPU and sent per batch
    on_gpu = dataset_fits(device, data.x_train.nbytes + data.x_val.nbytes, settings.gpu_fraction)
    data_device = device if on_gpu else torch.device("cpu")
    x_tr, y_tr = to_device_uint8(data.x_train, data_device), torch.from_numpy(np.asarray(data.y_train)).to(device)
    x_va, y_va = to_device_uint8(data.x_val, data_device), torch.from_numpy(np.asarray(data.y_val)).to(device)
    weights = class_weight_tensor(data.y_train, data.num_classes).to(device) if settings.class_weights else None
    draws = balanced_sample_weights(data.y_train, data.num_classes) if settings.sampling == "balanced" else None
    micro = settings.micro_batch
    if micro is None and device.type == "cuda" and settings.memory_fit:
        peak = cuda_step_peak(model, pre, x_tr, y_tr, cfg.loss, StepOptions(bf16, channels_last))
        micro = choose_micro_batch(cfg.batch_size, peak,
                                   gpu_budget_bytes(device, settings.gpu_fraction))
    opts = StepOptions(bf16, channels_last, micro)
    n_params = count_parameters(model)
    cost_ms = inference_ms(model, pre, x_va)
    patience = cfg.patience

    while epoch < settings.max_epochs:
        epoch += 1
        if hasattr(model, "begin_epoch"):  # e.g. a backbone frozen for its first warm-up epochs
            model.begin_epoch(epoch)
        t0 = time.perf_counter()
        # only a fresh trial's first epoch is timed: later ones may slow down with the machine's load
        limit = settings.max_epoch_seconds if epoch == 1 else None
        tr = train_one_epoch(model, pre, opt, x_tr, y_tr, cfg, gen, weights, draws, opts, limit)
        train_seconds = time.perf_counter() - t0
        if M.PROJECTED_EPOCH_SECONDS in tr:
            # too expensive for this search's budget: say so (no checkpoint; nothing worth keeping) and end
            report({M.EPOCH: 0, M.VAL_LOSS: math.nan, M.VAL_ACC: math.nan, M.VAL_F1: math.nan,
                    M.STOPPED_BY: M.TOO_SLOW, M.PROJECTED_EPOCH_SECONDS: tr[M.PROJECTED_EPOCH_SECONDS],
                    M.SAMPLES_PER_SECOND: tr["seen"] / max(train_seconds, 1e-9), M.PARAM_COUNT: n_params}, None)
            return
        va = evaluate(model, pre, x_va, y_va, cfg, data.num_classes, settings.eval_batch_size)
        lr = opt.param_groups[0]["lr"]
        if not tr[M.DIVERGED] and math.isfinite(va[M.VAL_LOSS]):
            step_schedule(sched, va[M.VAL_LOSS])
        improved = va[M.VAL_LOSS] < best
        best, bad_epochs = (va[M.VAL_LOSS], 0) if improved else (best, bad_epochs + 1)
        result = {
            M.EPOCH: epoch, M.TRAIN_LOSS: tr[M.TRAIN_LOSS], M.TRAIN_ACC: tr[M.TRAIN_ACC], **va, M.LR: lr,
            M.EPOCH_SECONDS: time.perf_counter() - t0,
            M.SAMPLES_PER_SECOND: tr["seen"] / max(train_seconds, 1e-9),
            M.PARAM_COUNT: n_params, M.INFERENCE_MS: cost_ms, M.MICRO_BATCH: micro or cfg.batch_size,
            M.DIVERGED: tr[M.DIVERGED] or int(not math.isfinite(va[M.VAL_LOSS])),
        }
        stop = bool(result[M.DIVERGED])
        if patience and bad_epochs >= patience and epoch < settings.max_epochs:
            result[M.STOPPED_BY], stop = "patience", True
        state = {
            "model": model.state_dict(), "optimizer": opt.state_dict(), "schedule": sched.state_dict(),
            "epoch": epoch, "best_val_loss": best, "bad_epochs": bad_epochs, "config": dict(config),
            "rng": {"generator": gen.get_state(), "torch": torch.get_rng_state()},
        }
        report(result, state)
        if stop:
            return

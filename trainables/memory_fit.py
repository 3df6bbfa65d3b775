"""Will a configuration fit its share of the GPU? A short profiling step decides before training.

One forward and backward pass at the full batch size measures the peak GPU memory (plus room for the
optimizer's state, which exists only after the first step). If it exceeds the trial's budget, the batch
is split into micro-batches (half, a quarter, ...) with gradient accumulation, so the effective batch
and the optimizer's steps stay the same; if even the smallest micro-batch does not fit, the trial is
refused with `DoesNotFit` before it trains, instead of crashing with an out-of-memory error midway
(or, packed with other trials, crashing them).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from .device_speed import StepOptions, autocast, to_memory_format
from .losses import LossConfig, compute_loss

MIN_MICRO_BATCH = 4  # below this, batch norm statistics are too noisy to be the same model
HEADROOM = 0.9       # of the budget: the allocator's fragmentation and cuDNN workspaces need the rest
DATASET_SHARE = 0.25  # of a GPU trial's memory budget that its resident images may take
OPTIMIZER_SLOTS = 2  # Adam-family state per parameter (the largest of the registered optimizers)


class DoesNotFit(RuntimeError):
    """The configuration needs more GPU memory than its share, even at the smallest micro-batch."""


def choose_micro_batch(batch_size: int, peak_bytes: Callable[[int], float], budget_bytes: float,
                       min_micro: int = MIN_MICRO_BATCH) -> int | None:
    """The largest micro-batch among batch, batch/2, batch/4, ... whose peak fits `budget_bytes`.

    Returns None when the whole batch fits. `peak_bytes(n)` measures one step at n images; an
    out-of-memory error counts as not fitting.
    """
    micro, tried = batch_size, []
    while True:
        try:
            peak = float(peak_bytes(micro))
        except torch.OutOfMemoryError:
            peak = math.inf
        tried.append((micro, peak))
        if peak <= budget_bytes:
            return None if micro == batch_size else micro
        if micro // 2 < min_micro:
            shown = ", ".join(f"{n} images: {'out of memory' if math.isinf(p) else f'{p / 2**30:.2f} GiB'}"
                              for n, p in tried)
            raise DoesNotFit(f"needs more GPU memory than its budget of {budget_bytes / 2**30:.2f} GiB "
                             f"even in micro-batches of {micro} ({shown}); lower batch_size or the model size, "
                             f"or give trials more of a GPU (resources.gpus_per_trial)")
        micro //= 2


def cuda_step_peak(model: nn.Module, pre: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: LossConfig,
                   opts: StepOptions) -> Callable[[int], float]:
    """A `peak_bytes` for `choose_micro_batch`: CUDA peak of forward + backward at n images, plus
    the optimizer state still to come. Gradients are cleared after; weights and buffers are left as they were."""
    device = y.device  # where the model computes (the images may stay on the CPU)
    trainable = sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)

    def measure(n: int) -> float:
        buffers = [b.clone() for b in model.buffers()]  # batch-norm statistics: this pass must not move them
        model.zero_grad(set_to_none=True)
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        idx = torch.arange(min(n, len(y)))
        model.train()
        try:
            with autocast(device, opts.bf16):
                logits = model(to_memory_format(pre(x[idx.to(x.device)]), opts.channels_last))
            compute_loss(logits.float(), y[idx.to(device)], loss).backward()
            torch.cuda.synchronize(device)
            return torch.cuda.max_memory_allocated(device) + OPTIMIZER_SLOTS * trainable
        finally:
            model.zero_grad(set_to_none=True)
            with torch.no_grad():
                for b, saved in zip(model.buffers(), buffers):
                    b.copy_(saved)

    return measure


def dataset_fits(device: torch.device, nbytes: int, fraction: float | None) -> bool:
    """Keep the uint8 images on the trial's device? Always on a CPU; on a GPU when they take at most
    `DATASET_SHARE` of the trial's share, leaving the rest for the model."""
    return device.type != "cuda" or nbytes <= DATASET_SHARE * gpu_budget_bytes(device, fraction)


def gpu_budget_bytes(device: torch.device, fraction: float | None) -> float:
    """This trial's share of the GPU: `fraction` (gpus_per_trial) of the device, with headroom."""
    total = torch.cuda.get_device_properties(device).total_memory
    return HEADROOM * total * (fraction if fraction and 0 < fraction < 1 else 1.0)

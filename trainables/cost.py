"""What a model costs to run: measured inference time per image, so accuracy can be ranked against cost."""
from __future__ import annotations

import time

import torch
from torch import nn

INFERENCE_BATCH = 32   # images per timed forward pass
INFERENCE_REPEATS = 3  # timed passes after one warm-up; the median is kept


@torch.no_grad()
def inference_ms(model: nn.Module, pre: nn.Module, x: torch.Tensor, batch: int = INFERENCE_BATCH,
                 repeats: int = INFERENCE_REPEATS) -> float:
    """Milliseconds per image for preprocessing + an eval-mode forward pass on the first `batch` images of x."""
    was_training = model.training
    model.eval()
    xb = x[:batch]
    on_cuda = any(t.is_cuda for t in model.parameters())  # the images may sit on the CPU
    sync = torch.cuda.synchronize if on_cuda else (lambda: None)
    model(pre(xb))  # warm-up: allocator, cuDNN autotuning, lazy init
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        model(pre(xb))
        sync()
        times.append(time.perf_counter() - t0)
    model.train(was_training)
    return 1000 * sorted(times)[len(times) // 2] / max(len(xb), 1)

"""The fixed per-epoch metric schema, and the few metrics computed inside a trial."""
from __future__ import annotations

import torch

EPOCH = "epoch"
TRAIN_LOSS = "train_loss"
TRAIN_ACC = "train_acc"
VAL_LOSS = "val_loss"
VAL_ACC = "val_acc"
VAL_F1 = "val_f1_macro"
LR = "lr"
EPOCH_SECONDS = "epoch_seconds"
SAMPLES_PER_SECOND = "samples_per_second"
PARAM_COUNT = "param_count"
INFERENCE_MS = "inference_ms"  # eval-mode forward time per image, measured once per trial
MICRO_BATCH = "micro_batch"    # images per forward pass: batch_size, or less when the batch was split to fit a GPU
DIVERGED = "diverged"          # 1 on the epoch whose loss became NaN/inf (the trial then ends)
STOPPED_BY = "stopped_by"      # "patience" on the epoch where the trial's own early stopping ended it;
                               # "too_slow" when its first epoch would outlast TrainSettings.max_epoch_seconds
TOO_SLOW = "too_slow"
PROJECTED_EPOCH_SECONDS = "projected_epoch_seconds"  # of a too-slow trial: its first epoch's projected length

EPOCH_METRICS = [EPOCH, TRAIN_LOSS, TRAIN_ACC, VAL_LOSS, VAL_ACC, VAL_F1, LR, EPOCH_SECONDS, SAMPLES_PER_SECOND]
METRICS = {VAL_ACC: "max", VAL_F1: "max", VAL_LOSS: "min", TRAIN_LOSS: "min", TRAIN_ACC: "max"}


def confusion_matrix(preds: torch.Tensor, targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Counts [true, predicted]."""
    return torch.bincount(targets * num_classes + preds, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def f1_macro(confusion: torch.Tensor) -> float:
    """Unweighted mean of per-class F1 over classes present in targets or predictions (as scikit-learn)."""
    c = confusion.double()
    tp = c.diag()
    support, predicted = c.sum(1), c.sum(0)
    denom = support + predicted
    f1 = torch.where(denom > 0, 2 * tp / denom.clamp(min=1), torch.zeros_like(tp))
    return float(f1.mean())

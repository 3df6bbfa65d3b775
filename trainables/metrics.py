"""The fixed per-epoch metric schema, and the few metrics computed inside a trial."""
from __future__ import annotations

import torch

# the names live in .schema (no torch), re-exported here for the training code
from .schema import (DIVERGED, EPOCH, EPOCH_METRICS, EPOCH_SECONDS, INFERENCE_MS, LR, METRICS,  # noqa: F401
                     MICRO_BATCH, PARAM_COUNT, PROJECTED_EPOCH_SECONDS, SAMPLES_PER_SECOND, STOPPED_BY, TOO_SLOW,
                     TRAIN_ACC, TRAIN_LOSS, VAL_ACC, VAL_F1, VAL_LOSS)


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

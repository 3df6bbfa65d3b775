"""The fixed per-epoch metric schema (`EpochReport`), and the few metrics computed inside a trial."""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import torch

# the names live in .schema (no torch), re-exported here for the training code
from .schema import (  # noqa: F401
    DEADLINE,
    DIVERGED,
    EPOCH,
    EPOCH_METRICS,
    EPOCH_SECONDS,
    INFEASIBLE,
    INFERENCE_MS,
    LR,
    METRICS,
    MICRO_BATCH,
    PARAM_COUNT,
    PROJECTED_EPOCH_SECONDS,
    RESOURCE,
    SAMPLES_PER_SECOND,
    STAGE,
    STOPPED_BY,
    TOO_SLOW,
    TRAIN_ACC,
    TRAIN_LOSS,
    VAL_ACC,
    VAL_F1,
    VAL_LOSS,
    VIOLATED,
)


class StopReason(str, Enum):
    """Why a trial ended itself before its last epoch (a scheduler's stop is not the trial's own)."""

    PATIENCE = "patience"  # its own early stopping: `patience` epochs without a better val_loss
    TOO_SLOW = TOO_SLOW    # its first epoch was projected to outlast TrainSettings.max_epoch_seconds
    DIVERGED = "diverged"  # its loss became NaN/inf
    DEADLINE = DEADLINE    # staged: not even its first stage could end before the search's deadline
    INFEASIBLE = INFEASIBLE  # it broke one of search.constraints (before training, or after an epoch)


@dataclass
class EpochReport:
    """What a trial reports after each epoch; `metrics()` is the flat dict Ray Tune and the results files hold.

    A too-slow trial reports once, at epoch 0, with no train/validation numbers (NaN validation metrics).
    """

    epoch: int
    samples_per_second: float
    param_count: int
    val_loss: float = math.nan
    val_acc: float = math.nan
    val_f1: float = math.nan
    train_loss: float | None = None
    train_acc: float | None = None
    lr: float | None = None
    epoch_seconds: float | None = None
    inference_ms: float | None = None
    micro_batch: int | None = None
    diverged: bool = False
    stopped_by: StopReason | None = None
    projected_epoch_seconds: float | None = None  # of a too-slow trial: its first epoch's projected length
    stage: int | None = None                      # staged trials only (trainables.stages)
    resource: float | None = None                 # staged trials, on a stage's last epoch: full-data epochs spent
    violated: str | None = None  # of an infeasible trial: the constraint it broke, and its value

    def metrics(self) -> dict[str, float | int | str]:
        """Schema name -> value, leaving out what this report does not have."""
        values = {EPOCH: self.epoch, TRAIN_LOSS: self.train_loss, TRAIN_ACC: self.train_acc, VAL_LOSS: self.val_loss,
                  VAL_ACC: self.val_acc, VAL_F1: self.val_f1, LR: self.lr, EPOCH_SECONDS: self.epoch_seconds,
                  SAMPLES_PER_SECOND: self.samples_per_second, PARAM_COUNT: self.param_count,
                  INFERENCE_MS: self.inference_ms, MICRO_BATCH: self.micro_batch, DIVERGED: int(self.diverged),
                  STOPPED_BY: self.stopped_by.value if self.stopped_by else None,
                  PROJECTED_EPOCH_SECONDS: self.projected_epoch_seconds, VIOLATED: self.violated,
                  STAGE: self.stage, RESOURCE: self.resource}
        return {k: v for k, v in values.items() if v is not None}


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

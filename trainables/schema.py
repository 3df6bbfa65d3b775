"""What a trial reports, by name: the per-epoch metrics, their natural direction, the flags of an early end.

Pure data (no torch), so `analysis` reads results and `search` validates a metric without importing
the training code. The trainable writes these keys; everything that reads results uses these names.
"""
from __future__ import annotations

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
PATIENCE = "patience"
TOO_SLOW = "too_slow"
DEADLINE = "deadline"          # a staged trial whose first stage could not end before the search's deadline
INFEASIBLE = "infeasible"      # STOPPED_BY of a trial that violated one of search.constraints
VIOLATED = "violated"          # of an infeasible trial: which constraint, and the value it had
PROJECTED_EPOCH_SECONDS = "projected_epoch_seconds"  # of a too-slow trial: its first epoch's projected length
ERROR_KEY = "error"            # the exception that ended a trial (recorded by the Ray adapter)
NODE_ID = "node_id"            # the Ray node a result came from
STAGE = "stage"                # staged trials (trainables.stages): the stage this epoch belongs to (0 = cheapest)
RESOURCE = "resource"          # staged trials, at the end of each stage only: cost so far in full-data epochs

EPOCH_METRICS = [EPOCH, TRAIN_LOSS, TRAIN_ACC, VAL_LOSS, VAL_ACC, VAL_F1, LR, EPOCH_SECONDS, SAMPLES_PER_SECOND]
# the metrics a search may optimise, each with its natural direction (the mode of the metric)
METRICS = {VAL_ACC: "max", VAL_F1: "max", VAL_LOSS: "min", TRAIN_LOSS: "min", TRAIN_ACC: "max"}
# what a trial costs, measured once before it trains: further objectives (never the first) and constraints
COST_METRICS = {PARAM_COUNT: "min", INFERENCE_MS: "min"}
OBJECTIVE_METRICS = {**METRICS, **COST_METRICS}
# what search.constraints may bound: the costs (checked before training) and every per-epoch number
CONSTRAINT_METRICS = {*OBJECTIVE_METRICS, EPOCH_SECONDS, SAMPLES_PER_SECOND}

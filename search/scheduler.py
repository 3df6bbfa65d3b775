"""Where the ASHA early-stopping scheduler is built."""
from __future__ import annotations

from ray.tune.schedulers import ASHAScheduler

from trainables.metrics import EPOCH

from .config import ExperimentConfig


def build_scheduler(cfg: ExperimentConfig) -> ASHAScheduler:
    """ASHA on the epoch counter; metric and mode come from TuneConfig."""
    return ASHAScheduler(
        time_attr=EPOCH,
        max_t=cfg.budget.max_epochs,
        grace_period=cfg.budget.grace_period,
        reduction_factor=cfg.budget.reduction_factor,
    )

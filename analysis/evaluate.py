"""Held-out test evaluation of a trial: its best checkpoint, predicted on the test set, scored."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import ExperimentError as LaunchError
from trainables.checkpoint import load_state
from trainables.loop import Preprocess, predict_logits
from trainables.models import build_model

from .classification import ClassificationMetrics, classification_metrics
from .load import Experiment


@dataclass
class TestEvaluation:
    """Predictions of one model on the test set, and their metrics."""

    trial_id: str
    epoch: int
    config: dict[str, Any]
    class_names: list[str]
    y_true: np.ndarray
    probs: np.ndarray                # softmax [N, classes]
    metrics: ClassificationMetrics

    @property
    def y_pred(self) -> np.ndarray:
        return self.probs.argmax(1)


def checkpoints(trial_dir: str | Path) -> dict[int, Path]:
    """epoch -> checkpoint folder, for the checkpoints Ray kept (the best by the metric, and the latest)."""
    out = {}
    for d in sorted(Path(trial_dir).glob("checkpoint_*")):
        state = load_state(d)
        if state is not None:
            out[int(state["epoch"])] = d
    return out


def best_checkpoint(exp: Experiment, trial_id: str) -> Path:
    """The kept checkpoint whose epoch scored best on the experiment's metric (validation, never test)."""
    row = exp.trials.set_index("trial_id").loc[trial_id]
    kept = checkpoints(row["trial_dir"]) if row["trial_dir"] else {}
    if not kept:
        raise LaunchError(f"trial {trial_id} of {exp.path} has no readable checkpoint to evaluate")
    ep = exp.epochs[exp.epochs["trial_id"] == trial_id].set_index("epoch")[exp.metric]
    sign = 1 if exp.mode == "max" else -1

    def score(epoch: int) -> float:
        v = ep.get(epoch, math.nan)
        return sign * v if isinstance(v, float) and math.isfinite(v) else -math.inf

    return kept[max(sorted(kept), key=score)]  # ties: the earliest epoch (max keeps the first)


def load_model(state: dict[str, Any], in_shape: tuple[int, int, int], num_classes: int) -> torch.nn.Module:
    model = build_model(state["config"], in_shape, num_classes)
    model.load_state_dict(state["model"])
    return model.eval()


def predict_probs(model: torch.nn.Module, mean: tuple[float, ...], std: tuple[float, ...],
                  x: np.ndarray) -> np.ndarray:
    """Softmax probabilities for uint8 images [N, C, H, W], on CPU."""
    pre = Preprocess(mean, std)
    logits = predict_logits(model, pre, torch.from_numpy(np.ascontiguousarray(x)))
    return torch.softmax(logits, 1).numpy()


def evaluate_model(model: torch.nn.Module, mean: tuple[float, ...], std: tuple[float, ...], x_test: np.ndarray,
                   y_test: np.ndarray, class_names: list[str], trial_id: str, epoch: int,
                   config: dict[str, Any]) -> TestEvaluation:
    probs = predict_probs(model, mean, std, x_test)
    return TestEvaluation(trial_id, epoch, dict(config), list(class_names), np.asarray(y_test), probs,
                          classification_metrics(y_test, probs, class_names))


def evaluate_trial(exp: Experiment, trial_id: str, data: Any) -> TestEvaluation:
    """Evaluate `trial_id`'s best checkpoint on `data` (an `ExperimentData`) held-out test set."""
    state = load_state(best_checkpoint(exp, trial_id))
    d = data.data
    model = load_model(state, d.in_shape, d.num_classes)
    return evaluate_model(model, d.mean, d.std, data.x_test, data.y_test, d.class_names, trial_id,
                          int(state["epoch"]), state["config"])

"""Held-out test evaluation of a trial: its best checkpoint, predicted on the test set, scored."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from trainables.checkpoint import TrialState, load_state, trained_model, untrained_model
from trainables.data import TrialData
from trainables.loop import TrainSettings, predict_logits
from trainables.preprocess import Normalisation, normalisation_for
from trainables.trial_config import parse_trial_config
from trainables.tta import flip_tta_logits, use_flip_tta

from .classification import ClassificationMetrics, classification_metrics
from .errors import ExperimentError as LaunchError
from .load import Experiment
from .location import AnyPath, as_path, glob


@dataclass
class TestEvaluation:
    """Predictions of one model on the test set, and their metrics."""

    trial_id: str
    epoch: float                     # a final model fitted to a deadline may end with a partial pass
    config: dict[str, Any]
    class_names: list[str]
    y_true: np.ndarray
    probs: np.ndarray                # softmax [N, classes]
    metrics: ClassificationMetrics
    flip_tta: bool = False           # predictions averaged over each image and its mirror

    @property
    def y_pred(self) -> np.ndarray:
        return self.probs.argmax(1)


def checkpoints(trial_dir: str | Path) -> dict[int, AnyPath]:
    """epoch -> checkpoint folder, for the checkpoints Ray kept (the best by the metric, and the latest)."""
    out = {}
    for d in glob(as_path(trial_dir), "checkpoint_*"):
        state = load_state(d)
        if state is not None:
            out[state.epoch] = d
    return out


def best_checkpoint(exp: Experiment, trial_id: str) -> AnyPath:
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


def trial_model(state: TrialState, data: TrialData) -> tuple[torch.nn.Module, Normalisation]:
    """The checkpoint's model (never needing pretrained weights) and the preprocessing it was trained with."""
    model = trained_model(state.config, data.in_shape, data.num_classes, state.model)
    # checkpoints written before preprocessing was stored: decided as the trial decided it
    return model, state.preprocess or normalisation_for(model, data.mean, data.std)


def flip_tta_for(config: dict[str, Any], settings: TrainSettings) -> bool:
    """Whether a model of this trial config is scored with flip TTA: the one rule the trials, the test
    evaluation, `final` and the bundle all follow (`trainables.tta.use_flip_tta`)."""
    return use_flip_tta(settings.tta, parse_trial_config(config))


def predict_probs(model: torch.nn.Module, preprocess: Normalisation, x: np.ndarray,
                  flip_tta: bool = False) -> np.ndarray:
    """Softmax probabilities for uint8 images [N, C, H, W], on CPU, preprocessed as the model was trained;
    with `flip_tta`, the mean over each image and its left-right mirror."""
    images = torch.from_numpy(np.ascontiguousarray(x))
    predict = flip_tta_logits if flip_tta else predict_logits
    return torch.softmax(predict(model, preprocess.module(), images), 1).numpy()


def evaluation_seconds(config: dict[str, Any], in_shape: tuple[int, int, int], num_classes: int, images: int,
                       flip_tta: bool, sample: np.ndarray) -> float:
    """Seconds `evaluate_model` will take on `images` test images with a model of `config`: `predict_probs`
    timed on `sample` (uint8 images, after one small untimed batch that pays the one-off costs) and scaled.
    Timed, not derived from training: the evaluation runs in fp32 on the CPU whatever precision training
    used, and a CPU's time per image depends on the batch size (a 200-image batch took half the time per
    image of a 1,024-image one): give a sample of at least one evaluation batch."""
    model = untrained_model(config, in_shape, num_classes).eval()
    preprocess = Normalisation((0.5,) * in_shape[0], (0.25,) * in_shape[0])
    predict_probs(model, preprocess, sample[:16], flip_tta)
    t0 = time.perf_counter()
    predict_probs(model, preprocess, sample, flip_tta)
    return (time.perf_counter() - t0) * images / max(len(sample), 1)


def evaluate_model(model: torch.nn.Module, preprocess: Normalisation, x: np.ndarray, y: np.ndarray,
                   class_names: list[str], trial_id: str, epoch: float, config: dict[str, Any],
                   flip_tta: bool = False) -> TestEvaluation:
    probs = predict_probs(model, preprocess, x, flip_tta)
    return TestEvaluation(trial_id, epoch, dict(config), list(class_names), np.asarray(y), probs,
                          classification_metrics(y, probs, class_names), flip_tta)


def evaluate_trial(exp: Experiment, trial_id: str, data: Any) -> TestEvaluation:
    """Evaluate `trial_id`'s best checkpoint on `data` (an `ExperimentData`) held-out test set."""
    state = load_state(best_checkpoint(exp, trial_id))
    if state is None:
        raise LaunchError(f"trial {trial_id} of {exp.path}: its best checkpoint became unreadable")
    d = data.data
    model, preprocess = trial_model(state, d)
    return evaluate_model(model, preprocess, data.x_test, data.y_test, d.class_names, trial_id, state.epoch,
                          state.config, flip_tta_for(state.config, data.settings))

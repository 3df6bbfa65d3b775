"""`hpsearch final --ensemble K`: retrain the top K configurations, average their probabilities, test once.

Members are retrained, not reused from the search: a search checkpoint saw only the training split,
and an ASHA-stopped trial's kept checkpoints may miss its best epoch. Each member is retrained exactly
as `hpsearch final` retrains the single best (train+validation, for its best epoch count), so member 1
*is* the single-best final model and the comparison on the test set is like for like. The test set
is used after every choice is made: members and epochs come from validation scores only.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .bundle import PREDICTIONS, save_bundle, save_ensemble_bundle
from .classification import ClassificationMetrics, classification_metrics
from .errors import ExperimentError
from .evaluate import flip_tta_for, predict_probs
from .experiment_data import ExperimentData, load_experiment_data
from .final import Retrained, ranked_trials, train_fixed, trial_config
from .load import PENDING, UNFINISHED, Experiment, load_experiment
from .location import output_folder
from .progress import Progress, stderr_progress

COMPARISON = "final.json"


@dataclass
class Member:
    trial_id: str
    epochs: int
    config: dict[str, Any]
    fit: Retrained
    probs: np.ndarray                # its softmax on the test set
    flip_tta: bool = False           # scored with flip TTA, as its trial was (analysis.evaluate.flip_tta_for)


@dataclass
class FinalEnsemble:
    bundle: Path
    members: list[Member]            # best first: members[0] is the single best
    ensemble: ClassificationMetrics
    single_best: ClassificationMetrics


def ensemble_candidates(exp: Experiment, k: int, by: str = "best") -> pd.DataFrame:
    """The best `k` finished trials with a score; a `k` out of range raises before anything runs."""
    ranked = ranked_trials(exp, by)
    done = ranked[~ranked["ended"].isin([UNFINISHED, PENDING])] if not ranked.empty else ranked
    if k < 2 or k > len(done):
        raise ExperimentError(f"--ensemble {k}: allowed 2 to the number of finished trials with a {exp.metric} "
                              f"score, which is {len(done)} in {exp.path}")
    return done.head(k)


def retrain_member(exp: Experiment, row: pd.Series, by: str, base: ExperimentData, say: Progress) -> Member:
    """One member, retrained as `final_model` retrains the best trial, and its test-set probabilities."""
    trial_id = str(row["trial_id"])
    epochs = int(row["best_epoch"]) if by == "best" else int(row["epochs"])
    config = trial_config(exp, trial_id)
    d = base.data
    x, y = np.concatenate([d.x_train, d.x_val]), np.concatenate([d.y_train, d.y_val])
    say(f"retraining trial {trial_id} ({config.get('family', '?')}) on {len(y)} images for {epochs} epochs")
    fit = train_fixed(config, x, y, d.x_val[:256], d.y_val[:256], base, epochs, trial_id, say)
    tta = flip_tta_for(config, base.settings)
    return Member(trial_id, epochs, config, fit, predict_probs(fit.model, fit.preprocess, base.x_test, tta), tta)


def metrics_record(m: ClassificationMetrics) -> dict[str, Any]:
    """Summary numbers and per-class rows, as JSON."""
    return {**m.summary(), "per_class": m.per_class.reset_index().to_dict("records")}


def final_ensemble(results_dir: str | Path, k: int, out: str | Path | None = None, by: str = "best",
                   progress: Progress | None = stderr_progress("final")) -> FinalEnsemble:
    """Retrain the top `k` trials' configs on train+validation; test the mean of their probabilities once.

    Example:
        >>> final_ensemble("results/quickstart", 3)  # doctest: +SKIP
    """
    say = progress or (lambda _m: None)
    exp = load_experiment(results_dir)
    top = ensemble_candidates(exp, k, by)
    say(f"loading data of {exp.path}")
    base = load_experiment_data(exp.path)
    members = [retrain_member(exp, row, by, base, say) for _, row in top.iterrows()]
    names = base.data.class_names
    probs = np.mean([m.probs for m in members], axis=0)
    result = FinalEnsemble(output_folder(exp.path, out, "ensemble"), members,
                           classification_metrics(base.y_test, probs, names),
                           classification_metrics(base.y_test, members[0].probs, names))
    write_ensemble(result, exp, base, probs)
    say(f"ensemble bundle written to {result.bundle}")
    return result


def write_ensemble(result: FinalEnsemble, exp: Experiment, base: ExperimentData, probs: np.ndarray) -> None:
    """Member bundles (member_1 = the single best), the ensemble's bundle.json and predictions, and final.json:
    the ensemble beside the single best on the test set."""
    d, folder = base.data, result.bundle
    n_train = len(d.y_train) + len(d.y_val)
    names = []
    for i, m in enumerate(result.members, 1):
        names.append(f"member_{i}")
        member_metrics = metrics_record(classification_metrics(base.y_test, m.probs, d.class_names))
        source = {"experiment": str(exp.path), "trial_id": m.trial_id, "epochs": m.epochs,
                  "trained_on": f"train+validation ({n_train} images)"}
        save_bundle(folder / names[-1], m.fit.model, m.config, d.class_names, d.in_shape, m.fit.preprocess,
                    member_metrics, source, m.flip_tta)
    ens = result.ensemble
    metrics = {**metrics_record(ens), "confusion": ens.confusion.tolist(), "test_images": int(len(base.y_test))}
    members = [{"trial_id": m.trial_id, "epochs": m.epochs, "folder": n,
                "test_accuracy": float((m.probs.argmax(1) == base.y_test).mean())}
               for m, n in zip(result.members, names)]
    save_ensemble_bundle(folder, names, d.class_names, d.in_shape, metrics,
                         {"experiment": str(exp.path), "ensemble_of": members, "averaging": "mean of probabilities"})
    pd.DataFrame({"index": np.arange(len(base.y_test)), "true": base.y_test, "predicted": probs.argmax(1),
                  "probability": probs.max(1)}).to_csv(folder / PREDICTIONS, index=False)
    comparison = {"test_images": int(len(base.y_test)), "members": members,
                  "ensemble": metrics_record(ens), "single_best": metrics_record(result.single_best),
                  "accuracy_gain": ens.accuracy - result.single_best.accuracy}
    (folder / COMPARISON).write_text(json.dumps(comparison, indent=2, default=float))


def comparison_table(result: FinalEnsemble) -> pd.DataFrame:
    """Per-class precision/recall/F1 of the single best and of the ensemble, side by side."""
    cols = ["precision", "recall", "f1"]
    return pd.concat({"single best": result.single_best.per_class[cols],
                      f"ensemble of {len(result.members)}": result.ensemble.per_class[cols]}, axis=1)

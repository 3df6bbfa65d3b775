"""Classification metrics of a held-out evaluation, computed by scikit-learn: the numbers our users report.

Accuracy, per-class precision/recall/F1/support, their macro and weighted means, the confusion
matrix, and one-vs-rest ROC curves with AUC per class. A class with no predictions has precision 0
(`zero_division=0`); the macro and weighted means count only classes present in the truth or the
predictions, as `sklearn.metrics.precision_recall_fscore_support(average=...)` does.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

AVERAGES = ("macro", "weighted")


@dataclass
class RocCurve:
    """One-vs-rest ROC of one class: false/true positive rates at every distinct score threshold."""

    fpr: np.ndarray
    tpr: np.ndarray
    auc: float


@dataclass
class ClassificationMetrics:
    accuracy: float
    per_class: pd.DataFrame          # index: class name; columns precision, recall, f1, support, auc
    confusion: np.ndarray            # counts [true, predicted]
    roc: dict[str, RocCurve]
    averages: dict[str, dict[str, float]] = field(default_factory=dict)  # "macro"/"weighted" -> precision, recall, f1

    def averaged(self, how: str) -> dict[str, float]:
        """`how="macro"` (unweighted mean over classes) or `"weighted"` (by support)."""
        if how not in self.averages:
            raise ValueError(f"average {how!r}: allowed {', '.join(AVERAGES)}")
        return dict(self.averages[how])

    def summary(self) -> dict[str, float]:
        """Flat dict: accuracy, {macro,weighted}_{precision,recall,f1}, macro_auc."""
        out = {"accuracy": self.accuracy}
        for how in AVERAGES:
            out.update({f"{how}_{k}": v for k, v in self.averaged(how).items()})
        # the mean over classes whose AUC is defined (sklearn's multi-class AUC refuses an absent class)
        out["macro_auc"] = float(np.nanmean([c.auc for c in self.roc.values()]))
        return out


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts [true, predicted], every class 0..num_classes-1 present as a row and a column."""
    return skm.confusion_matrix(y_true, y_pred, labels=np.arange(num_classes))


def roc_curve(is_positive: np.ndarray, score: np.ndarray) -> RocCurve:
    """ROC points at each distinct threshold (highest first, from (0, 0)) and the area under them."""
    is_positive = np.asarray(is_positive, dtype=bool)
    if is_positive.all() or not is_positive.any():  # AUC is undefined when the class is absent (or is everything)
        return RocCurve(np.array([0.0, 1.0]), np.array([0.0, 1.0]), float("nan"))
    fpr, tpr, _ = skm.roc_curve(is_positive, score, drop_intermediate=False)
    return RocCurve(fpr, tpr, float(skm.roc_auc_score(is_positive, score)))


def one_vs_rest(y_true: np.ndarray, num_classes: int) -> np.ndarray:
    """Boolean indicator matrix [N, num_classes]: column c is "the true class is c"."""
    y = label_binarize(y_true, classes=np.arange(num_classes))
    if num_classes == 2:  # label_binarize gives a single column for two classes
        y = np.hstack([1 - y, y])
    return y.astype(bool)


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, class_names: list[str]) -> ClassificationMetrics:
    """All metrics from true labels and class probabilities [N, classes]; predictions are the argmax."""
    k = len(class_names)
    y_true = np.asarray(y_true)
    y_pred = probs.argmax(1)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=np.arange(k), zero_division=0)
    averages = {}
    for how in AVERAGES:
        p, r, f, _ = skm.precision_recall_fscore_support(y_true, y_pred, average=how, zero_division=0)
        averages[how] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    positives = one_vs_rest(y_true, k)
    roc = {name: roc_curve(positives[:, c], probs[:, c]) for c, name in enumerate(class_names)}
    per_class = pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support.astype(int),
                              "auc": [roc[n].auc for n in class_names]}, index=pd.Index(class_names, name="class"))
    return ClassificationMetrics(float(skm.accuracy_score(y_true, y_pred)), per_class,
                                 confusion_matrix(y_true, y_pred, k), roc, averages)

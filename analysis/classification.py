"""Classification metrics of a held-out evaluation, in numpy: the numbers our users report.

Accuracy, per-class precision/recall/F1/support, their macro and weighted means, the confusion
matrix, and one-vs-rest ROC curves with AUC per class. Conventions follow scikit-learn
(a class with no predictions has precision 0; weighted means are by true-class support).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


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

    def averaged(self, how: str) -> dict[str, float]:
        """`how="macro"` (unweighted mean over classes) or `"weighted"` (by support)."""
        # as scikit-learn: classes absent from both truth and predictions do not count
        seen = (self.confusion.sum(0) + self.confusion.sum(1)) > 0
        pc = self.per_class[seen]
        w = pc["support"] / pc["support"].sum() if how == "weighted" else pd.Series(1 / len(pc), index=pc.index)
        return {k: float((pc[k] * w).sum()) for k in ("precision", "recall", "f1")}

    def summary(self) -> dict[str, float]:
        """Flat dict: accuracy, {macro,weighted}_{precision,recall,f1}, macro_auc."""
        out = {"accuracy": self.accuracy}
        for how in ("macro", "weighted"):
            out.update({f"{how}_{k}": v for k, v in self.averaged(how).items()})
        out["macro_auc"] = float(np.nanmean([c.auc for c in self.roc.values()]))
        return out


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts [true, predicted]."""
    idx = np.asarray(y_true, dtype=np.int64) * num_classes + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(idx, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def roc_curve(is_positive: np.ndarray, score: np.ndarray) -> RocCurve:
    """ROC points at each distinct threshold (highest first) and the trapezoidal area under them."""
    order = np.argsort(-score, kind="mergesort")
    score, pos = score[order], is_positive[order].astype(np.float64)
    last_of_tie = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]  # ties move together
    tps, fps = np.cumsum(pos)[last_of_tie], np.cumsum(1 - pos)[last_of_tie]
    n_pos, n_neg = pos.sum(), len(pos) - pos.sum()
    if n_pos == 0 or n_neg == 0:  # AUC is undefined when the class is absent (or is everything)
        return RocCurve(np.array([0.0, 1.0]), np.array([0.0, 1.0]), float("nan"))
    fpr, tpr = np.r_[0.0, fps / n_neg], np.r_[0.0, tps / n_pos]
    return RocCurve(fpr, tpr, float(np.trapezoid(tpr, fpr)))


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, class_names: list[str]) -> ClassificationMetrics:
    """All metrics from true labels and class probabilities [N, classes]; predictions are the argmax."""
    k = len(class_names)
    y_true = np.asarray(y_true)
    y_pred = probs.argmax(1)
    conf = confusion_matrix(y_true, y_pred, k)
    tp = np.diag(conf).astype(np.float64)
    support, predicted = conf.sum(1).astype(np.float64), conf.sum(0).astype(np.float64)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    roc = {name: roc_curve(y_true == c, probs[:, c]) for c, name in enumerate(class_names)}
    per_class = pd.DataFrame({"precision": precision, "recall": recall, "f1": f1, "support": support.astype(int),
                              "auc": [roc[n].auc for n in class_names]}, index=pd.Index(class_names, name="class"))
    return ClassificationMetrics(float((y_pred == y_true).mean()), per_class, conf, roc)

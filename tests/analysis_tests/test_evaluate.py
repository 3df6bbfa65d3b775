"""Test metrics of the best trial equal scikit-learn's on the same predictions."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from analysis import leaderboard, load_experiment
from analysis.classification import classification_metrics
from analysis.evaluate import best_checkpoint, evaluate_trial
from analysis.experiment_data import load_experiment_data
from trainables.checkpoint import load_state


def assert_matches_sklearn(y, probs, names):
    m = classification_metrics(y, probs, names)
    pred = probs.argmax(1)
    assert m.accuracy == pytest.approx(skm.accuracy_score(y, pred))
    np.testing.assert_array_equal(m.confusion, skm.confusion_matrix(y, pred, labels=range(len(names))))
    for how in ("macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(y, pred, average=how, zero_division=0)
        assert m.averaged(how) == pytest.approx({"precision": p, "recall": r, "f1": f})
    p, r, f, s = skm.precision_recall_fscore_support(y, pred, labels=range(len(names)), zero_division=0)
    np.testing.assert_allclose(m.per_class[["precision", "recall", "f1"]].to_numpy(), np.c_[p, r, f])
    np.testing.assert_array_equal(m.per_class["support"], s)
    for c, name in enumerate(names):
        if 0 < (y == c).sum() < len(y):
            assert m.roc[name].auc == pytest.approx(skm.roc_auc_score(y == c, probs[:, c]))
            fpr, tpr, _ = skm.roc_curve(y == c, probs[:, c], drop_intermediate=False)
            assert m.roc[name].auc == pytest.approx(skm.auc(fpr, tpr))
    return m


@pytest.mark.slow
def test_best_trial_test_metrics_equal_sklearn(finished_exp):
    exp = load_experiment(finished_exp)
    best = leaderboard(exp).iloc[0]
    data = load_experiment_data(finished_exp)
    ev = evaluate_trial(exp, best["trial_id"], data)
    assert len(ev.y_true) == 10000  # the real Fashion-MNIST test set, never seen in the search
    assert ev.epoch == int(best["best_epoch"])  # the checkpoint of the epoch that won on validation
    m = assert_matches_sklearn(ev.y_true, ev.probs, ev.class_names)
    assert m.summary()["macro_auc"] == pytest.approx(skm.roc_auc_score(ev.y_true, ev.probs, multi_class="ovr"))
    assert m.accuracy > 0.2  # a trained LeNet-5 (480 images, <= 2 epochs), above the 0.1 of chance


@pytest.mark.slow
def test_best_checkpoint_is_best_validation_epoch(finished_exp):
    exp = load_experiment(finished_exp)
    for _, row in exp.trials.iterrows():
        state = load_state(best_checkpoint(exp, row["trial_id"]))
        assert state.epoch == row["best_epoch"]


def test_metrics_with_ties_and_an_absent_class():
    rng = np.random.default_rng(0)
    names = [f"c{i}" for i in range(5)]
    y = rng.choice([0, 1, 2, 3], size=300)  # class 4 never occurs in the truth
    probs = rng.dirichlet(np.ones(5), size=300).round(2)  # rounding makes tied scores
    probs[y == 1, 1] += 0.3
    assert_matches_sklearn(y, probs, names)

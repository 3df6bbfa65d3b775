"""Held-out classification metrics on small cases worked out by hand (binary, absent classes)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from analysis.classification import classification_metrics

# 3 classes, 6 images; predictions (argmax): [0, 0, 1, 1, 0, 2] against truth [0, 0, 1, 2, 2, 2]
Y = np.array([0, 0, 1, 2, 2, 2])
PROBS = np.array([[.8, .1, .1], [.6, .3, .1], [.2, .7, .1], [.1, .5, .4], [.5, .2, .3], [.1, .2, .7]])


def test_per_class_and_means_by_hand():
    m = classification_metrics(Y, PROBS, ["a", "b", "c"])
    assert m.accuracy == pytest.approx(4 / 6)
    np.testing.assert_array_equal(m.confusion, [[2, 0, 0], [0, 1, 0], [1, 1, 1]])
    # precision a 2/3, b 1/2, c 1/1; recall a 1, b 1, c 1/3
    np.testing.assert_allclose(m.per_class["precision"], [2 / 3, 1 / 2, 1])
    np.testing.assert_allclose(m.per_class["recall"], [1, 1, 1 / 3])
    np.testing.assert_allclose(m.per_class["f1"], [0.8, 2 / 3, 0.5])
    assert list(m.per_class["support"]) == [2, 1, 3]
    assert m.averaged("macro")["f1"] == pytest.approx((0.8 + 2 / 3 + 0.5) / 3)
    assert m.averaged("weighted")["recall"] == pytest.approx(4 / 6)  # weighted recall is accuracy
    # class c: scores .1 .1 .1 (negatives) against .4 .3 .7 (positives): every pair ordered right
    assert m.roc["c"].auc == pytest.approx(1.0)
    assert m.roc["c"].fpr[0] == 0 and m.roc["c"].tpr[-1] == 1
    with pytest.raises(ValueError, match="micro"):
        m.averaged("micro")


def test_binary_has_a_curve_per_class():
    y = np.array([0, 1, 1, 0, 1])
    p1 = np.array([0.2, 0.9, 0.4, 0.6, 0.8])
    m = classification_metrics(y, np.c_[1 - p1, p1], ["elliptical", "spiral"])
    # positives .9 .4 .8 against negatives .2 .6: 5 of 6 pairs ordered right
    assert m.roc["spiral"].auc == pytest.approx(5 / 6)
    assert m.roc["elliptical"].auc == pytest.approx(5 / 6)  # the same ranking seen from the other class
    assert m.summary()["macro_auc"] == pytest.approx(5 / 6)


def test_absent_class_has_no_auc_and_is_left_out_of_the_means():
    y = np.array([0, 1, 0, 1])
    probs = np.array([[.7, .2, .1], [.2, .7, .1], [.6, .3, .1], [.4, .5, .1]])
    m = classification_metrics(y, probs, ["a", "b", "never"])
    assert math.isnan(m.roc["never"].auc) and m.per_class.loc["never", "support"] == 0
    assert m.averaged("macro")["precision"] == pytest.approx(1.0)  # over a and b only
    assert m.summary()["macro_auc"] == pytest.approx(1.0)

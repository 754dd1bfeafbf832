"""reviewlake/train/evaluate.py on hand-made arrays (no Spark, no TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewlake.train import evaluate

CLASSES = ["negative", "neutral", "positive"]


def test_confusion_matrix_rows_true_columns_predicted():
    cm = evaluate.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 2, 1, 2, 2, 0], 3)
    assert cm.tolist() == [[1, 0, 1], [0, 1, 0], [1, 0, 2]]


def test_metrics_by_hand():
    #            true: neg neg neg pos pos pos pos pos
    #            pred: neg neg pos pos pos pos neg pos
    y_true = np.array([0, 0, 0, 2, 2, 2, 2, 2])
    y_pred = np.array([0, 0, 2, 2, 2, 2, 0, 2])
    m = evaluate.classification_metrics(y_true, y_pred, CLASSES)

    assert m["accuracy"] == pytest.approx(6 / 8)
    neg, pos = m["per_class"]["negative"], m["per_class"]["positive"]
    assert neg == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert pos["precision"] == pytest.approx(4 / 5)
    assert pos["recall"] == pytest.approx(4 / 5)
    assert pos["f1"] == pytest.approx(4 / 5)
    assert pos["support"] == 5
    # neutral never occurs in y_true: reported with zeros, left out of the macro average
    assert m["per_class"]["neutral"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["macro_f1"] == pytest.approx((2 / 3 + 4 / 5) / 2)
    assert m["confusion_matrix"] == {"labels": CLASSES, "matrix": [[2, 0, 1], [0, 0, 0], [1, 0, 4]]}
    assert m["n"] == 8


def test_predicting_an_absent_class_costs_precision_not_macro_terms():
    y_true = [0, 0, 2, 2]
    y_pred = [1, 0, 2, 2]  # one row predicted as neutral, which is absent from y_true
    m = evaluate.classification_metrics(y_true, y_pred, CLASSES)
    assert m["per_class"]["neutral"]["precision"] == 0.0
    assert m["per_class"]["negative"]["recall"] == pytest.approx(0.5)
    neg_f1 = 2 * 1.0 * 0.5 / 1.5
    assert m["macro_f1"] == pytest.approx((neg_f1 + 1.0) / 2)


def test_perfect_and_all_wrong():
    assert evaluate.classification_metrics([0, 1, 2], [0, 1, 2], CLASSES)["macro_f1"] == pytest.approx(1.0)
    m = evaluate.classification_metrics([0, 0], [2, 2], CLASSES)
    assert m["accuracy"] == 0.0
    assert m["macro_f1"] == 0.0


def test_majority_baseline_uses_training_labels():
    y_train = [2, 2, 2, 0]
    y_test = [0, 0, 0, 2]  # the test majority is a different class on purpose
    m = evaluate.majority_baseline(y_train, y_test, CLASSES)
    assert m["predicted_class"] == "positive"
    assert m["accuracy"] == pytest.approx(0.25)
    assert m["per_class"]["positive"]["recall"] == 1.0
    assert evaluate.majority_class([1, 0, 1, 0]) == 0  # tie: smallest id


@pytest.mark.parametrize("y_true,y_pred", [([0, 3], [0, 0]), ([0, -1], [0, 0]), ([0, 1], [0])])
def test_bad_inputs_fail(y_true, y_pred):
    with pytest.raises(ValueError):
        evaluate.classification_metrics(y_true, y_pred, CLASSES)


def test_empty_input_fails():
    with pytest.raises(ValueError):
        evaluate.classification_metrics([], [], CLASSES)


def test_plots_write_png(tmp_path):
    history = {
        "loss": [0.9, 0.6],
        "val_loss": [0.95, 0.7],
        "sparse_categorical_accuracy": [0.5, 0.7],
        "val_sparse_categorical_accuracy": [0.45, 0.65],
    }
    curves = evaluate.plot_training_curves(history, tmp_path / "curves.png")
    cm = evaluate.plot_confusion_matrix([[3, 1], [0, 4]], ["negative", "positive"], tmp_path / "cm.png")
    for path in (curves, cm):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 1000


# --------------------------------------------------------------------------- intervals, McNemar, calibration
def test_bootstrap_interval_holds_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    pred = np.where(rng.random(400) < 0.8, y, 1 - y)  # ~80% right
    ci = evaluate.bootstrap_ci(y, pred, 2, resamples=500, seed=1)
    acc = float((y == pred).mean())
    assert ci["accuracy"][0] < acc < ci["accuracy"][1]
    assert 0.03 < ci["accuracy"][1] - ci["accuracy"][0] < 0.12  # ~ +-1.96 * sqrt(.8 * .2 / 400) = +-0.039
    f1 = evaluate.classification_metrics(y, pred, ["a", "b"])["macro_f1"]
    assert ci["macro_f1"][0] < f1 < ci["macro_f1"][1]
    assert evaluate.bootstrap_ci(y, pred, 2, resamples=500, seed=1) == ci
    assert evaluate.bootstrap_ci(y, y, 2, resamples=50) == {"accuracy": [1.0, 1.0], "macro_f1": [1.0, 1.0]}


def test_mcnemar_by_hand():
    y = np.zeros(30, dtype=int)
    a = np.zeros(30, dtype=int)  # right everywhere
    b = a.copy()
    b[:10] = 1  # wrong on 10 rows a gets right
    assert evaluate.mcnemar_p(y, a, b) == pytest.approx(2 / 2**10)
    assert evaluate.mcnemar_p(y, a, a) == 1.0
    b[10] = 1
    a[11] = 1  # 11 vs 1 discordant: 2 * (C(12,0) + C(12,1)) / 2^12
    assert evaluate.mcnemar_p(y, a, b) == pytest.approx(2 * 13 / 2**12)


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=60))
def test_mcnemar_is_a_symmetric_probability(rows):
    y, a, b = (np.array(col) for col in zip(*rows, strict=True))
    p = evaluate.mcnemar_p(y, a, b)
    assert 0.0 < p <= 1.0
    assert p == evaluate.mcnemar_p(y, b, a)


def test_ece_and_reliability_by_hand():
    probs = np.array([[0.2, 0.8]] * 4 + [[0.6, 0.4]] * 2)
    y = np.array([1, 1, 1, 0, 0, 1])  # confidence 0.8: 3 of 4 right; 0.6: 1 of 2 right
    r = evaluate.reliability(y, probs, bins=10)
    assert sum(r["count"]) == 6
    assert r["count"][7] == 4 and r["accuracy"][7] == pytest.approx(0.75) and r["confidence"][7] == pytest.approx(0.8)
    assert r["count"][5] == 2 and r["accuracy"][5] == pytest.approx(0.5)
    assert evaluate.expected_calibration_error(y, probs) == pytest.approx((4 * 0.05 + 2 * 0.1) / 6)


@given(st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 1)), min_size=1, max_size=80))
def test_ece_is_between_zero_and_one(rows):
    p1 = np.array([p for p, _ in rows])
    probs = np.stack([1 - p1, p1], axis=1)
    y = np.array([label for _, label in rows])
    assert 0.0 <= evaluate.expected_calibration_error(y, probs) <= 1.0
    assert sum(evaluate.reliability(y, probs)["count"]) == len(rows)


def test_candidate_metrics_and_reliability_plot(tmp_path):
    y = np.array([0, 1, 1, 0, 1])
    probs = np.array([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4], [0.8, 0.2], [0.1, 0.9]])
    m = evaluate.candidate_metrics(y, probs, ["neg", "pos"], "baseline", resamples=100)
    assert m["kind"] == "baseline" and m["accuracy"] == pytest.approx(0.8)
    assert m["accuracy_ci95"][0] <= 0.8 <= m["accuracy_ci95"][1] and 0 <= m["ece"] <= 1
    path = evaluate.plot_reliability({"model": evaluate.reliability(y, probs)}, tmp_path / "r.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

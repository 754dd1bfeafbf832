"""reviewlake/train/evaluate.py on hand-made arrays (no Spark, no TensorFlow)."""
from __future__ import annotations

import numpy as np
import pytest

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
    y_pred = [1, 0, 2, 2]           # one row predicted as neutral, which is absent from y_true
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
    y_test = [0, 0, 0, 2]            # the test majority is a different class on purpose
    m = evaluate.majority_baseline(y_train, y_test, CLASSES)
    assert m["predicted_class"] == "positive"
    assert m["accuracy"] == pytest.approx(0.25)
    assert m["per_class"]["positive"]["recall"] == 1.0
    assert evaluate.majority_class([1, 0, 1, 0]) == 0   # tie: smallest id


@pytest.mark.parametrize("y_true,y_pred", [([0, 3], [0, 0]), ([0, -1], [0, 0]), ([0, 1], [0])])
def test_bad_inputs_fail(y_true, y_pred):
    with pytest.raises(ValueError):
        evaluate.classification_metrics(y_true, y_pred, CLASSES)


def test_empty_input_fails():
    with pytest.raises(ValueError):
        evaluate.classification_metrics([], [], CLASSES)


def test_plots_write_png(tmp_path):
    history = {"loss": [0.9, 0.6], "val_loss": [0.95, 0.7],
               "sparse_categorical_accuracy": [0.5, 0.7], "val_sparse_categorical_accuracy": [0.45, 0.65]}
    curves = evaluate.plot_training_curves(history, tmp_path / "curves.png")
    cm = evaluate.plot_confusion_matrix([[3, 1], [0, 4]], ["negative", "positive"], tmp_path / "cm.png")
    for path in (curves, cm):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size > 1000

"""Pure parts of the champion and the linear models: n-grams, the ensemble's weights, the choice,
the numpy model's save/load (no Spark, no TensorFlow)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from reviewlake.train import champion, linear


def test_word_and_char_grams():
    assert linear.word_grams(["很", "好", "用"]) == ["很", "好", "用", "很\u0001好", "好\u0001用"]
    assert linear.word_grams(None) == []
    assert linear.char_grams("好用!") == ["好", "好用", "好用!", "用", "用!", "!"]
    assert linear.char_grams(None) == []


@given(st.text(max_size=30))
def test_char_grams_count_every_window_of_one_to_four(text):
    grams = linear.char_grams(text)
    assert len(grams) == sum(max(0, len(text) - n + 1) for n in range(1, 5))
    assert all(g in text for g in grams)


def _model(kind="char_1_4gram"):
    vocab = ["好", "差", "好用", "不"]
    return linear.LinearTextModel(
        kind,
        vocab,
        idf=np.array([0.5, 0.7, 1.2, 0.3]),
        coef=np.array([[-1.0, 2.0, -1.5, 0.4], [1.0, -2.0, 1.5, -0.4]]),
        intercept=np.array([0.1, -0.1]),
        reg_param=3e-5,
    )


def test_linear_model_arithmetic_by_hand_and_round_trip(tmp_path):
    m = _model()
    probs = m.probabilities(["好用", "", "xyz"])
    # "好用": grams 好, 好用, 用 -> features 好 (0.5) and 好用 (1.2), L2-normalised
    x = np.array([0.5, 1.2]) / np.sqrt(0.5**2 + 1.2**2)
    margins = np.array([0.1 + (-1.0 * x[0] - 1.5 * x[1]), -0.1 + (1.0 * x[0] + 1.5 * x[1])])
    expected = np.exp(margins) / np.exp(margins).sum()
    assert probs[0] == pytest.approx(expected)
    no_feature = np.exp([0.1, -0.1]) / np.exp([0.1, -0.1]).sum()
    assert probs[1] == pytest.approx(no_feature) and probs[2] == pytest.approx(no_feature)
    m.save(tmp_path / "m.npz")
    back = linear.LinearTextModel.load(tmp_path / "m.npz")
    assert back.kind == m.kind and back.vocabulary == m.vocabulary and back.reg_param == m.reg_param
    assert np.array_equal(back.probabilities(["好用", "不好"]), m.probabilities(["好用", "不好"]))
    with pytest.raises(ValueError, match="unknown linear model kind"):
        _model("bytes")


def test_sparse_inputs_by_hand_and_truncated_to_the_most_frequent():
    m = _model()
    ids, weights = m.sparse_inputs(["好用", "", "不好用"], 3)
    norm = np.sqrt(0.5**2 + 1.2**2)
    assert ids.dtype == np.int32 and weights.dtype == np.float32
    assert ids[0].tolist() == [1, 3, 0] and weights[0] == pytest.approx([0.5 / norm, 1.2 / norm, 0.0])
    assert ids[1].tolist() == [0, 0, 0] and weights[1].tolist() == [0.0, 0.0, 0.0]
    # "不好用" has 好, 好用, 不 (features 0, 2, 3); a length of 2 keeps features 0 and 2, weighted
    # as in the full row
    ids, weights = m.sparse_inputs(["不好用"], 2)
    full = np.sqrt(0.5**2 + 1.2**2 + 0.3**2)
    assert ids[0].tolist() == [1, 3] and weights[0] == pytest.approx([0.5 / full, 1.2 / full])


def test_sparse_inputs_without_a_length_keep_every_feature():
    """The champion SavedModel's linear inputs: as wide as the row with the most features."""
    m = _model()
    ids, weights = m.sparse_inputs(["不好用", "差", ""])
    full = np.sqrt(0.5**2 + 1.2**2 + 0.3**2)
    assert ids.tolist() == [[1, 3, 4], [2, 0, 0], [0, 0, 0]]
    assert weights[0] == pytest.approx([0.5 / full, 1.2 / full, 0.3 / full]) and weights[1].tolist() == [1.0, 0, 0]
    ids, weights = m.sparse_inputs(["", "xyz"])
    assert ids.shape == weights.shape == (2, 1) and not ids.any()
    assert m.sparse_inputs([])[0].shape == (0, 1)


@given(st.lists(st.sampled_from(["好", "差", "用", "不", "x"]), max_size=12).map("".join))
def test_sparse_inputs_give_the_models_probabilities(text):
    """softmax(intercept + sum_j coef[:, id_j - 1] * weight_j), what wide_lstm starts from, is the
    linear model's probability whenever the row is not truncated."""
    m = _model()
    ids, weights = m.sparse_inputs([text], 8)
    coef = np.concatenate([np.zeros((m.coef.shape[0], 1)), m.coef], axis=1)
    margins = m.intercept + coef[:, ids[0]] @ weights[0].astype(np.float64)
    e = np.exp(margins - margins.max())
    assert e / e.sum() == pytest.approx(m.probabilities([text])[0], abs=1e-6)


def test_ensemble_weights_follow_validation():
    y = np.array([0, 1, 0, 1, 0, 1])
    good = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6], [0.6, 0.4], [0.3, 0.7]])
    bad = good[:, ::-1]
    w = champion.ensemble_weights({"good": good, "bad": bad}, y)
    assert w["good"] > w["bad"] and sum(w.values()) == pytest.approx(1.0)
    mixed = champion.mix({"good": good, "bad": bad}, w)
    assert (mixed.argmax(axis=1) == y).all()
    # a tie on accuracy goes to the lower log loss: all weight on the sharper of two equally right models
    sharp = np.where(good > 0.5, 0.99, 0.01)
    w = champion.ensemble_weights({"good": good, "sharp": sharp}, y)
    assert w == {"good": 0.0, "sharp": 1.0}


def test_choose_prefers_the_better_then_the_first_named():
    assert champion.choose({"lstm": 0.84, "char_1_4gram": 0.86, "ensemble": 0.85}) == "char_1_4gram"
    assert champion.choose({"lstm": 0.86, "char_1_4gram": 0.86, "ensemble": 0.86}) == "lstm"


def test_champion_files_round_trip(tmp_path):
    champion.write(
        tmp_path, "ensemble", {"lstm": 0.4, "char_1_4gram": 0.6, "word_1_2gram": 0.0}, {"char_1_4gram": _model()}
    )
    assert champion.read(tmp_path) == {"name": "ensemble", "members": {"lstm": 0.4, "char_1_4gram": 0.6}}
    assert (tmp_path / "linear" / "char_1_4gram.npz").is_file()
    assert champion.read(tmp_path / "older") == {"name": "lstm", "members": {"lstm": 1.0}}
    with pytest.raises(ValueError, match="no linear model"):
        champion.write(tmp_path, "word_1_2gram", {"word_1_2gram": 1.0}, {})

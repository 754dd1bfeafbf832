"""The champion as one SavedModel (reviewlake/train/champion_model.py): its ``serving_default``
signature, called as TF Serving calls it, and the scorer that batch scoring runs give the weighted
mean of the members' own probabilities (Keras for the LSTM, numpy for a linear model) within 1e-5,
also for a text with more char n-grams than ``wide_lstm`` reads. Real TensorFlow, no Spark."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from reviewlake.text.serving import tokens_to_ids, vocab_lines
from reviewlake.train import champion
from reviewlake.train.champion import CHAMPION_MODEL, Scorer, mix
from reviewlake.train.champion_model import save_champion_model
from reviewlake.train.linear import LinearTextModel, char_grams, word_grams
from tests.integration.test_train_score import train_params

MAX_LEN = 12
CHAR_LEN = 6  # wide_lstm's char inputs: fewer than LONG's n-grams (the linear members take them all)
LONG = "很贵很差不好用好用好用差差贵不用很好"
TEXTS = ["好用", "不好用", "差", "", "很贵", LONG, "贵不贵"]
TOKENS = [list(t) for t in TEXTS[:3]] + [None] + [list(t) for t in TEXTS[4:]]
VOCAB = {c: i + 2 for i, c in enumerate("好差用不很")}  # "贵" is out of vocabulary
N_CLASSES = 3


def _linear(kind: str, grams: list[str], seed: int) -> LinearTextModel:
    rng = np.random.default_rng(seed)
    vocabulary = sorted(set(grams))
    d = len(vocabulary)
    return LinearTextModel(
        kind, vocabulary, rng.uniform(0.2, 2.0, d), rng.normal(0, 2.0, (N_CLASSES, d)), rng.normal(size=N_CLASSES), 1e-4
    )


CHAR = _linear("char_1_4gram", [g for t in TEXTS for g in char_grams(t)], 1)
WORD = _linear("word_1_2gram", [g for t in TOKENS for g in word_grams(t)][:-2], 2)  # a bigram unseen
LINEAR = {"char_1_4gram": CHAR, "word_1_2gram": WORD}


def _wide_lstm():
    """A tiny wide_lstm whose deep head is not zero: the LSTM's probabilities differ from its
    linear part's."""
    import tensorflow as tf

    from reviewlake.train.model import WideStart, build_model

    tf.keras.utils.set_random_seed(4)
    params = train_params(architecture="wide_lstm", embedding_dim=8, lstm_units=4)
    model = build_model(len(VOCAB) + 2, MAX_LEN, N_CLASSES, params, WideStart(CHAR.coef, CHAR.intercept, CHAR_LEN))
    deep = model.get_layer("deep")
    kernel, bias = deep.get_weights()
    deep.set_weights([np.random.default_rng(3).normal(0, 1.0, kernel.shape).astype(np.float32), bias])
    return model


def _member_probabilities(lstm_model) -> dict[str, np.ndarray]:
    """Each member's own probabilities on TEXTS/TOKENS: Keras for the LSTM, numpy for the others."""
    out = {"char_1_4gram": CHAR.probabilities(TEXTS), "word_1_2gram": WORD.probabilities(TOKENS)}
    if lstm_model is not None:
        ids = np.array([tokens_to_ids(t, VOCAB, MAX_LEN) for t in TOKENS], dtype=np.int32)
        out["lstm"] = lstm_model.predict([ids, *CHAR.sparse_inputs(TEXTS, CHAR_LEN)], verbose=0).astype(np.float64)
    return out


def _version_folder(path, members: dict[str, float], lstm_model=None):
    """What Scorer.from_model_dir reads, as export_model writes it (the files scoring needs)."""
    from reviewlake.train.export import save_keras_model

    path.mkdir()
    params = {"n_classes": N_CLASSES, "max_len": MAX_LEN}
    if lstm_model is not None:
        params["char_inputs"] = {"features": "linear/char_1_4gram.npz", "shape": [None, CHAR_LEN]}
        save_keras_model(lstm_model, path / "saved_model", MAX_LEN, CHAR_LEN)
    (path / "params.json").write_text(json.dumps(params), encoding="utf-8")
    (path / "vocab.txt").write_text("\n".join(vocab_lines(VOCAB.items())) + "\n", encoding="utf-8")
    champion.write(path, "ensemble", members, LINEAR)
    save_champion_model(path / CHAMPION_MODEL, members, LINEAR, lstm_model, MAX_LEN, CHAR_LEN if lstm_model else None)
    return path


def _served(model_dir, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """The SavedModel as TF Serving runs it: loaded on its own, called through ``serving_default``."""
    import tensorflow as tf

    signature = tf.saved_model.load(str(model_dir / CHAMPION_MODEL)).signatures["serving_default"]
    assert set(signature.structured_input_signature[1]) == set(inputs)
    return signature(**{name: tf.constant(a) for name, a in inputs.items()})["probabilities"].numpy()


def test_an_ensemble_with_the_lstm_is_one_savedmodel(tmp_path):
    members = {"lstm": 0.5, "char_1_4gram": 0.3, "word_1_2gram": 0.2}
    lstm_model = _wide_lstm()
    model_dir = _version_folder(tmp_path / "v1", members, lstm_model)
    probs = _member_probabilities(lstm_model)
    expected = mix(probs, members)
    for p in probs.values():  # each member counts: no single member gives the mix
        assert np.abs(p - expected).max() > 1e-3
    assert len(set(char_grams(LONG)) & set(CHAR.vocabulary)) > CHAR_LEN

    scorer = Scorer.from_model_dir(model_dir, batch_size=3)  # batches of different widths
    assert scorer.champion_model == model_dir / CHAMPION_MODEL
    inputs = scorer.serving_inputs(TEXTS, TOKENS)
    assert set(inputs) == {
        "token_ids",
        "char_ids",
        "char_weights",
        "char_1_4gram_ids",
        "char_1_4gram_weights",
        "word_1_2gram_ids",
        "word_1_2gram_weights",
    }
    assert inputs["char_ids"].shape == (len(TEXTS), CHAR_LEN) and inputs["char_1_4gram_ids"].shape[1] > CHAR_LEN
    assert np.abs(_served(model_dir, inputs) - expected).max() < 1e-5
    assert np.abs(scorer.predict(TEXTS, TOKENS) - expected).max() < 1e-5
    # a version folder from before champion_model/: member by member, the same numbers
    shutil.rmtree(model_dir / CHAMPION_MODEL)
    old = Scorer.from_model_dir(model_dir)
    assert old.champion_model is None
    assert np.abs(old.predict(TEXTS, TOKENS) - expected).max() < 1e-5


@pytest.mark.parametrize(
    "members",
    [{"lstm": 0.0, "char_1_4gram": 0.7, "word_1_2gram": 0.3}, {"char_1_4gram": 1.0}],
    ids=["two_linear_members", "one_linear_model"],
)
def test_a_linear_champion_is_one_savedmodel_without_the_lstm(tmp_path, members):
    """No LSTM input when the LSTM weighs 0; every n-gram of a row counts (none truncated)."""
    model_dir = _version_folder(tmp_path / "v1", members)
    expected = mix(_member_probabilities(None), members)
    scorer = Scorer.from_model_dir(model_dir)
    inputs = scorer.serving_inputs(TEXTS, TOKENS)
    assert {name.rsplit("_", 1)[0] for name in inputs} == {m for m, w in members.items() if w}
    assert np.abs(_served(model_dir, inputs) - expected).max() < 1e-5
    assert np.abs(scorer.predict(TEXTS, TOKENS) - expected).max() < 1e-5
    assert np.abs(replace(scorer, champion_model=None).predict(TEXTS, TOKENS) - expected).max() < 1e-5
    assert scorer.predict([], []).shape == (0, N_CLASSES)

"""The sentiment models (uncompiled Keras 2), selected by ``train.architecture``:

* ``wide_lstm`` (default): the word LSTM beside a linear ("wide") part over the review's character
  1-4-grams, softmax(wide + deep). The wide part is the char_1_4gram linear model's arithmetic
  (L2-normalised TF-IDF weights times one weight per n-gram and class) and starts from that model's
  fitted coefficients (:class:`WideStart`); the deep head starts at zero, so before training the
  network gives the linear model's probabilities, and training then fits both parts jointly;
* ``lstm`` (seed): Embedding(mask_zero) -> LSTM -> Dropout -> Dense(softmax);
* ``bilstm``: the same with a bidirectional LSTM;
* ``cnn``: Embedding -> Conv1D (ReLU, several widths) -> global max pool -> Dropout -> Dense.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from reviewlake.train.params import TrainParams

ARCHITECTURES = ("wide_lstm", "lstm", "bilstm", "cnn")
WIDE = "wide_lstm"
WIDE_LINEAR = "char_1_4gram"  # the linear model kind whose features and fit wide_lstm starts from
INPUT_NAMES = ("token_ids", "char_ids", "char_weights")


@dataclass(frozen=True)
class WideStart:
    """Where ``wide_lstm``'s linear part starts: a fitted linear model's ``coef`` [n_classes,
    n_grams] and ``intercept`` [n_classes], over inputs of ``char_len`` n-gram ids (id i + 1 is
    n-gram i of the model's vocabulary, 0 is padding) and their weights
    (:meth:`reviewlake.train.linear.LinearTextModel.sparse_inputs`)."""

    coef: np.ndarray
    intercept: np.ndarray
    char_len: int

    @property
    def n_grams(self) -> int:
        return int(self.coef.shape[1])


def build_model(vocab_size: int, max_len: int, n_classes: int, params: TrainParams, wide: WideStart | None = None):
    """A model taking int32 token ids ``[batch, max_len]`` (0 = padding, masked) and returning class
    probabilities ``[batch, n_classes]``; ``wide_lstm`` also takes ``char_ids`` (int32) and
    ``char_weights`` (float32), both ``[batch, wide.char_len]``, and needs ``wide``. Of ``params``
    it reads ``architecture``, ``embedding_dim``, ``lstm_units``, ``cnn_filters``, ``cnn_widths``
    and ``dropout``. The caller compiles it."""
    import tensorflow as tf

    arch = params.architecture
    if arch not in ARCHITECTURES:
        raise ValueError(f"train.architecture must be one of {ARCHITECTURES}, not {arch!r}")
    if vocab_size < 2 or max_len < 1 or n_classes < 2:
        raise ValueError(f"bad model shape: vocab_size={vocab_size} max_len={max_len} n_classes={n_classes}")
    if arch == WIDE and (wide is None or wide.coef.shape[0] != n_classes or len(wide.intercept) != n_classes):
        raise ValueError(f"{WIDE} needs the start of its linear part for {n_classes} classes")
    layers = tf.keras.layers
    inputs = tf.keras.Input(shape=(max_len,), dtype="int32", name="token_ids")
    x = layers.Embedding(vocab_size, params.embedding_dim, mask_zero=arch != "cnn", name="embedding")(inputs)
    if arch == WIDE:
        return _wide_lstm(tf, inputs, x, params.lstm_units, n_classes, params.dropout, wide)
    if arch == "lstm":
        x = layers.LSTM(params.lstm_units, name="lstm")(x)
    elif arch == "bilstm":
        x = layers.Bidirectional(layers.LSTM(params.lstm_units), name="bilstm")(x)
    else:
        x = layers.Concatenate(name="conv")(
            [
                layers.GlobalMaxPooling1D(name=f"pool{w}")(
                    layers.Conv1D(params.cnn_filters, w, activation="relu", name=f"conv{w}")(x)
                )
                for w in params.cnn_widths
            ]
        )
    x = layers.Dropout(params.dropout, name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return tf.keras.Model(inputs, outputs, name=f"sentiment_{arch}")


def _wide_lstm(tf, token_ids, embedded, units: int, n_classes: int, dropout: float, wide: WideStart):
    layers = tf.keras.layers
    char_ids = tf.keras.Input(shape=(wide.char_len,), dtype="int32", name="char_ids")
    char_weights = tf.keras.Input(shape=(wide.char_len,), dtype="float32", name="char_weights")
    per_gram = layers.Embedding(wide.n_grams + 1, n_classes, embeddings_initializer="zeros", name="wide_weights")
    # sum_j weight_j * coef[:, id_j]: the linear model's margin without its intercept
    wide_logits = layers.Dot(axes=(1, 1), name="wide")([per_gram(char_ids), char_weights])
    h = layers.Dropout(dropout, name="dropout")(layers.LSTM(units, name="lstm")(embedded))
    head = layers.Dense(n_classes, kernel_initializer="zeros", name="deep")
    logits = layers.Add(name="logits")([wide_logits, head(h)])
    outputs = layers.Softmax(name="probabilities")(logits)
    model = tf.keras.Model([token_ids, char_ids, char_weights], outputs, name=f"sentiment_{WIDE}")
    start = np.concatenate([np.zeros((1, n_classes)), np.asarray(wide.coef, dtype=np.float64).T]).astype(np.float32)
    per_gram.set_weights([start])
    head.set_weights([np.zeros((units, n_classes), np.float32), np.asarray(wide.intercept, np.float32)])
    return model


def model_inputs(arrays: Mapping[str, np.ndarray], arch: str):
    """What ``model.fit``/``predict`` take for ``arch``: the token ids alone, or for ``wide_lstm``
    the list (token ids, char ids, char weights) from ``arrays`` keyed by :data:`INPUT_NAMES`."""
    if arch == WIDE:
        return [arrays[n] for n in INPUT_NAMES]
    return arrays["token_ids"]


def predict(model, inputs: Any, rows: int, batch_size: int) -> np.ndarray:
    """``model``'s probabilities [rows, n_classes] (float64) for ``inputs`` (:func:`model_inputs`)."""
    if rows == 0:
        return np.zeros((0, model.output_shape[-1]))
    return model.predict(inputs, batch_size=batch_size, verbose=0).astype(np.float64)

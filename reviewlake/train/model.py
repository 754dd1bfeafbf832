"""The sentiment models (uncompiled Keras 2): the seed model (lstm) and two variants,
selected by ``train.architecture``:

* ``lstm`` (seed): Embedding(mask_zero) -> LSTM -> Dropout -> Dense(softmax);
* ``bilstm``: the same with a bidirectional LSTM;
* ``cnn``: Embedding -> Conv1D (ReLU, several widths) -> global max pool -> Dropout -> Dense.
"""
from __future__ import annotations

from typing import Any, Mapping

ARCHITECTURES = ("lstm", "bilstm", "cnn")


def build_model(vocab_size: int, max_len: int, n_classes: int, params: Mapping[str, Any] | None = None):
    """A model taking int32 token ids ``[batch, max_len]`` (0 = padding, masked) and returning class
    probabilities ``[batch, n_classes]``. ``params``: ``architecture`` (lstm), ``embedding_dim``
    (128), ``lstm_units`` (64), ``cnn_filters`` (128), ``cnn_widths`` ([2, 3, 4]), ``dropout``
    (0.2). The caller compiles it."""
    import tensorflow as tf

    params = dict(params or {})
    arch = str(params.get("architecture") or "lstm")
    if arch not in ARCHITECTURES:
        raise ValueError(f"train.architecture must be one of {ARCHITECTURES}, not {arch!r}")
    if vocab_size < 2 or max_len < 1 or n_classes < 2:
        raise ValueError(f"bad model shape: vocab_size={vocab_size} max_len={max_len} n_classes={n_classes}")
    layers = tf.keras.layers
    inputs = tf.keras.Input(shape=(max_len,), dtype="int32", name="token_ids")
    x = layers.Embedding(vocab_size, int(params.get("embedding_dim", 128)), mask_zero=arch != "cnn",
                         name="embedding")(inputs)
    units = int(params.get("lstm_units", 64))
    if arch == "lstm":
        x = layers.LSTM(units, name="lstm")(x)
    elif arch == "bilstm":
        x = layers.Bidirectional(layers.LSTM(units), name="bilstm")(x)
    else:
        filters = int(params.get("cnn_filters", 128))
        widths = [int(w) for w in params.get("cnn_widths") or (2, 3, 4)]
        x = layers.Concatenate(name="conv")([
            layers.GlobalMaxPooling1D(name=f"pool{w}")(layers.Conv1D(filters, w, activation="relu", name=f"conv{w}")(x))
            for w in widths])
    x = layers.Dropout(float(params.get("dropout", 0.2)), name="dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return tf.keras.Model(inputs, outputs, name=f"sentiment_{arch}")

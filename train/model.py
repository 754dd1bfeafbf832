"""The sentiment model: Embedding(mask_zero) -> LSTM -> Dropout -> Dense(softmax). Uncompiled."""
from __future__ import annotations

from typing import Any, Mapping


def build_model(vocab_size: int, max_len: int, n_classes: int, params: Mapping[str, Any] | None = None):
    """A Keras 2 model taking int32 token ids ``[batch, max_len]`` (0 = padding, masked) and returning
    class probabilities ``[batch, n_classes]``. ``params`` may set ``embedding_dim`` (128),
    ``lstm_units`` (64) and ``dropout`` (0.2). The caller compiles it."""
    import tensorflow as tf

    params = dict(params or {})
    if vocab_size < 2 or max_len < 1 or n_classes < 2:
        raise ValueError(f"bad model shape: vocab_size={vocab_size} max_len={max_len} n_classes={n_classes}")
    inputs = tf.keras.Input(shape=(max_len,), dtype="int32", name="token_ids")
    x = tf.keras.layers.Embedding(vocab_size, int(params.get("embedding_dim", 128)), mask_zero=True,
                                  name="embedding")(inputs)
    x = tf.keras.layers.LSTM(int(params.get("lstm_units", 64)), name="lstm")(x)
    x = tf.keras.layers.Dropout(float(params.get("dropout", 0.2)), name="dropout")(x)
    outputs = tf.keras.layers.Dense(n_classes, activation="softmax", name="probabilities")(x)
    return tf.keras.Model(inputs, outputs, name="sentiment_lstm")

"""The champion as one SavedModel, ``<version>/champion_model/``: what TF Serving loads and what
batch scoring and :class:`reviewlake.train.champion.Scorer` run, so the three give the same numbers.

Its ``serving_default`` signature takes the inputs of the champion's members (a member of weight
0 is left out; a single model is a one-member ensemble):

* the LSTM (``lstm``): ``token_ids`` int32 ``[batch, max_len]``; for ``wide_lstm`` also
  ``char_ids`` int32 and ``char_weights`` float32 ``[batch, char_len]`` (its char model's features,
  at most ``char_len``: :meth:`reviewlake.train.linear.LinearTextModel.sparse_inputs`);
* each linear member ``<kind>``: ``<kind>_ids`` int32 and ``<kind>_weights`` float32 ``[batch,
  width]``, every feature of the row (feature i as i + 1, 0 pads, any width: nothing truncated);

and returns ``probabilities`` float32 ``[batch, n_classes]`` = sum_m weight_m * p_m, added in
float64 in the graph: p of the LSTM is its softmax output, p of a linear member is
softmax(intercept + sum_j coef[:, id_j - 1] * weight_j), a gather from a table of its coefficients
whose row 0 (the pad) is zero, which is :meth:`LinearTextModel.probabilities`.
:meth:`reviewlake.train.champion.Scorer.serving_inputs` builds the inputs without Spark or
TensorFlow, from silver's cleaned text and tokens or from raw text.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from reviewlake.train.champion import LSTM, linear_input_names
from reviewlake.train.linear import LinearTextModel
from reviewlake.train.model import INPUT_NAMES


def save_champion_model(
    path: Path,
    members: Mapping[str, float],
    linear: Mapping[str, LinearTextModel],
    lstm: Any = None,
    max_len: int | None = None,
    char_len: int | None = None,
) -> None:
    """Write the SavedModel of the ensemble ``members`` (member -> weight) to ``path``: ``lstm``
    (the Keras model, taking ``max_len`` token ids and with ``char_len`` the char inputs) for the
    member ``lstm``, ``linear[kind]`` for a linear member."""
    import tensorflow as tf

    used = {m: float(w) for m, w in members.items() if w}
    if not used:
        raise ValueError("an ensemble needs a member with a non-zero weight")
    if LSTM in used and (lstm is None or max_len is None):
        raise ValueError("the champion has the LSTM as a member: it needs the Keras model and max_len")
    module = tf.Module()
    # the LSTM's variables, not the Keras model: saved with the graph, without Keras' own metadata
    module.lstm_variables = list(lstm.variables) if LSTM in used else []
    module.linear = {kind: _linear_part(tf, linear[kind]) for kind in used if kind != LSTM}
    specs = _input_specs(tf, used, max_len, char_len)
    names = [spec.name for spec in specs]

    @tf.function(input_signature=specs)
    def serve(*args):
        inputs = dict(zip(names, args, strict=True))
        return {"probabilities": _mix(tf, lstm, module.linear, used, inputs, bool(char_len))}

    tf.saved_model.save(module, str(path), signatures={"serving_default": serve})


def _input_specs(tf, used: Mapping[str, float], max_len: int | None, char_len: int | None) -> list:
    """The signature's inputs: the LSTM's (see the module doc), then each linear member's."""
    specs = []
    if LSTM in used:
        specs.append(tf.TensorSpec([None, max_len], tf.int32, name=INPUT_NAMES[0]))
        if char_len:
            specs.append(tf.TensorSpec([None, char_len], tf.int32, name=INPUT_NAMES[1]))
            specs.append(tf.TensorSpec([None, char_len], tf.float32, name=INPUT_NAMES[2]))
    for kind in used:
        if kind != LSTM:
            ids, weights = linear_input_names(kind)
            specs.append(tf.TensorSpec([None, None], tf.int32, name=ids))
            specs.append(tf.TensorSpec([None, None], tf.float32, name=weights))
    return specs


def _linear_part(tf, model: LinearTextModel):
    """A module holding ``model``'s coefficients as a float64 table [n_features + 1, n_classes]
    (row i + 1: feature i; row 0, the pad: zeros) and its intercept."""
    part = tf.Module()
    k = len(model.intercept)
    table = np.concatenate([np.zeros((1, k)), np.asarray(model.coef, dtype=np.float64).T])
    part.table = tf.Variable(table, trainable=False, name="coef")
    part.intercept = tf.Variable(np.asarray(model.intercept, dtype=np.float64), trainable=False, name="intercept")
    return part


def _linear_probabilities(tf, part, ids, weights):
    """softmax(intercept + sum_j coef[:, ids_j - 1] * weights_j) per row (float64)."""
    per_feature = tf.gather(part.table, ids)  # [batch, width, k]
    margins = part.intercept + tf.einsum("bw,bwk->bk", tf.cast(weights, tf.float64), per_feature)
    return tf.nn.softmax(margins)


def _mix(tf, lstm, linear: Mapping[str, Any], used: Mapping[str, float], inputs: Mapping[str, Any], wide: bool):
    """sum_m weight_m * p_m (float64 sum, float32 result): :func:`reviewlake.train.champion.mix` in the graph."""
    parts = []
    for member, weight in used.items():
        if member == LSTM:
            x = [inputs[n] for n in INPUT_NAMES] if wide else inputs[INPUT_NAMES[0]]
            p = tf.cast(lstm(x, training=False), tf.float64)
        else:
            ids, weights = (inputs[n] for n in linear_input_names(member))
            p = _linear_probabilities(tf, linear[member], ids, weights)
        parts.append(tf.constant(weight, tf.float64) * p)
    return tf.cast(tf.add_n(parts), tf.float32)

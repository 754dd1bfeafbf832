"""Checkpoints of a training run, so that a rerun after a failure resumes after the last completed
epoch: after every epoch rank 0 writes the last and the best weights and the epoch state
(:class:`EpochState`: history, early-stopping counters) into the run's folder
(:func:`checkpoint_dir`); a later run given the same folder reads them back (:func:`load_resume`).

Read and written through ``tf.io.gfile``: on a cluster the folder must be one rank 0 reaches from
any executor (a shared mount, or a URI scheme TensorFlow's file system supports).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewlake.train.data import GoldData
from reviewlake.train.params import TrainParams

STATE_FILE, LAST_WEIGHTS, BEST_WEIGHTS = "state.json", "last.weights.h5", "best.weights.h5"


def checkpoint_dir(models_dir: Path, gold: GoldData, params: TrainParams, num_proc: int) -> Path:
    """Where a training run checkpoints: keyed by the gold table versions, vocabulary, parameters
    and world size, so a rerun of the same training after a failure resumes, and any other
    training starts afresh. Removed when the model is exported."""
    key = json.dumps(
        {
            "tables": dict(gold.table_versions),
            "vocab": gold.vocab_version,
            "num_proc": num_proc,
            "params": dataclasses.asdict(params),
        },
        sort_keys=True,
        default=str,
    )
    return models_dir / "_checkpoints" / hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class EpochState:
    """Where a run stands after ``epoch`` (1-based) epochs: the history so far, early stopping's
    best validation loss, the epoch it came from (None: none yet) and the epochs waited since,
    and whether early stopping ended the run."""

    epoch: int
    history: dict[str, list[float]]
    best_val_loss: float
    best_epoch: int | None
    wait: int
    stopped: bool


@dataclass(frozen=True)
class Resume:
    """What a run resumes from: the epoch state, the last epoch's weights and the best epoch's
    (None when no epoch had a finite validation loss)."""

    state: EpochState
    weights: list[Any]
    best: list[Any] | None


def save(model: Any, folder: str, state: EpochState, best: bool) -> None:
    """The last weights (and with ``best`` the best ones: this epoch's) and ``state``, the state
    file replaced atomically."""
    import tensorflow as tf

    tf.io.gfile.makedirs(folder)
    model.save_weights(f"{folder}/{LAST_WEIGHTS}")
    if best:
        model.save_weights(f"{folder}/{BEST_WEIGHTS}")
    tmp = f"{folder}/{STATE_FILE}.tmp"
    with tf.io.gfile.GFile(tmp, "w") as fh:
        json.dump(dataclasses.asdict(state), fh)
    tf.io.gfile.rename(tmp, f"{folder}/{STATE_FILE}", overwrite=True)


def read_checkpoint_state(folder: str | None) -> EpochState | None:
    """The epoch state a previous run left in ``folder`` (None if none)."""
    import tensorflow as tf

    if not folder or not tf.io.gfile.exists(f"{folder}/{STATE_FILE}"):
        return None
    with tf.io.gfile.GFile(f"{folder}/{STATE_FILE}") as fh:
        return EpochState(**json.load(fh))


def load_resume(model: Any, folder: str | None) -> Resume | None:
    """What a run resumes from, read through ``model`` (same architecture); None when ``folder``
    holds no checkpoint. ``model`` is left with the last weights."""
    import tensorflow as tf

    state = read_checkpoint_state(folder)
    if state is None:
        return None
    best = None  # no best epoch yet (validation loss never finite)
    if state.best_epoch and tf.io.gfile.exists(f"{folder}/{BEST_WEIGHTS}"):
        model.load_weights(f"{folder}/{BEST_WEIGHTS}")
        best = model.get_weights()
    model.load_weights(f"{folder}/{LAST_WEIGHTS}")
    return Resume(state, model.get_weights(), best)

"""The version's model: the candidate chosen on the validation split, and the one scorer that
batch scoring and serving both use to give its probabilities.

Candidates (docs/training.md): the LSTM (``lstm``, a SavedModel over token ids), the linear
TF-IDF models (:mod:`reviewlake.train.linear`, named by their kind) and ``ensemble``, a weighted
mean of their probabilities with weights chosen on validation. The champion is the candidate with
the best validation accuracy; the test split only reports.

A version folder says which it serves in ``champion.json``: ``{"name": ..., "members": {member:
weight}}`` (a single model is a one-member ensemble of weight 1; a folder without the file, from
before champions, serves its LSTM). Members: ``lstm`` -> ``saved_model/`` + ``vocab.txt``;
a linear kind -> ``linear/<kind>.npz``.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reviewlake.text.serving import TextToIds, load_vocab, tokens_to_ids
from reviewlake.train.linear import LinearTextModel

CHAMPION_FILE = "champion.json"
LINEAR_DIR = "linear"
LSTM = "lstm"
ENSEMBLE = "ensemble"

_lock = threading.Lock()
_saved_models: dict[str, tuple[Any, Any]] = {}


def load_predictor(saved_model: str, threads: int = 1) -> Callable[..., np.ndarray]:
    """``predict(token_ids, **more_inputs) -> probabilities [n, k] float32`` for the SavedModel at
    ``saved_model`` (``token_ids`` int32 [n, max_len]; ``wide_lstm`` also takes ``char_ids`` and
    ``char_weights``); loaded on first use in this process, then served from the cache."""
    with _lock:
        entry = _saved_models.get(saved_model)
        if entry is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            import tensorflow as tf

            try:  # effective only before TensorFlow's runtime starts in this process
                tf.config.threading.set_intra_op_parallelism_threads(threads)
                tf.config.threading.set_inter_op_parallelism_threads(threads)
            except RuntimeError:
                pass
            loaded = tf.saved_model.load(saved_model)
            # keep `loaded` referenced: the signature's variables live in it
            entry = (loaded, loaded.signatures["serving_default"])
            _saved_models[saved_model] = entry
    signature = entry[1]

    def predict(ids: np.ndarray, **more: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        extra = {
            name: tf.constant(a, dtype=tf.float32 if name == "char_weights" else tf.int32) for name, a in more.items()
        }
        return signature(token_ids=tf.constant(ids, dtype=tf.int32), **extra)["probabilities"].numpy()

    return predict


def mix(probs: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """sum_m weights[m] * probs[m] (float64), over the members with a non-zero weight."""
    parts = [float(w) * np.asarray(probs[m], dtype=np.float64) for m, w in weights.items() if w]
    if not parts:
        raise ValueError("an ensemble needs a member with a non-zero weight")
    return np.sum(parts, axis=0)


def ensemble_weights(val_probs: Mapping[str, np.ndarray], y_val, step: float = 0.1) -> dict[str, float]:
    """Weights (multiples of ``step``, summing to 1) for the members of ``val_probs`` whose mean
    gives the best validation accuracy; a tie goes to the lower validation log loss. Every member
    stays in the result (a weight may be 0)."""
    names = list(val_probs)
    if not names:
        raise ValueError("no members to weigh")
    y = np.asarray(y_val).astype(np.int64).reshape(-1)
    units = int(round(1 / step))
    best = None
    for combo in itertools.product(range(units + 1), repeat=len(names)):
        if sum(combo) != units:
            continue
        weights = {n: c / units for n, c in zip(names, combo, strict=True)}
        p = mix(val_probs, weights)
        acc = float((p.argmax(axis=1) == y).mean())
        loss = float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean()) if len(y) else 0.0
        key = (acc, -loss)
        if best is None or key > best[0]:
            best = (key, weights)
    return best[1]


def choose(validation_accuracy: Mapping[str, float]) -> str:
    """The candidate with the best validation accuracy; a tie goes to the one named first."""
    names = list(validation_accuracy)
    return max(names, key=lambda n: (validation_accuracy[n], -names.index(n)))


def write(model_dir: Path, name: str, members: Mapping[str, float], linear: Mapping[str, LinearTextModel]) -> None:
    """``champion.json`` and the linear members' ``linear/<kind>.npz`` into ``model_dir``."""
    used = {m: float(w) for m, w in members.items() if w}
    (model_dir / LINEAR_DIR).mkdir(exist_ok=True)
    for kind, model in linear.items():
        model.save(model_dir / LINEAR_DIR / f"{kind}.npz")
    missing = [m for m in used if m != LSTM and m not in linear]
    if missing:
        raise ValueError(f"champion members {missing} have no linear model to save")
    (model_dir / CHAMPION_FILE).write_text(
        json.dumps({"name": name, "members": used}, indent=2) + "\n", encoding="utf-8"
    )


def read(model_dir: Path) -> dict[str, Any]:
    """``champion.json`` of a version (``{"name": "lstm", "members": {"lstm": 1.0}}`` when absent)."""
    path = Path(model_dir) / CHAMPION_FILE
    if not path.is_file():
        return {"name": LSTM, "members": {LSTM: 1.0}}
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class Scorer:
    """The champion of one model version: ``predict(texts, tokens)`` -> probabilities [n, k]
    (float32) from silver's cleaned ``text`` and ``tokens``; :meth:`predict_raw` from raw review
    text, cleaned and segmented as the pipeline does (:class:`reviewlake.text.serving.TextToIds`).
    An LSTM with char inputs (``wide_lstm``, params.json ``char_inputs``) gets them from the
    version's char linear model."""

    model_dir: Path
    members: dict[str, float]
    n_classes: int
    max_len: int
    threads: int = 1
    batch_size: int = 512
    linear: dict[str, LinearTextModel] = field(default_factory=dict)
    _vocab: dict[str, int] | None = None
    _text_to_ids: TextToIds | None = None
    char_features: LinearTextModel | None = None
    char_len: int = 0

    @classmethod
    def from_model_dir(cls, model_dir: str | Path, threads: int = 1, batch_size: int = 512) -> Scorer:
        model_dir = Path(model_dir)
        params = json.loads((model_dir / "params.json").read_text(encoding="utf-8"))
        members = {m: float(w) for m, w in read(model_dir)["members"].items()}
        linear = {m: LinearTextModel.load(model_dir / LINEAR_DIR / f"{m}.npz") for m in members if m != LSTM}
        vocab = load_vocab(model_dir / "vocab.txt") if LSTM in members else None
        char_spec = params.get("char_inputs") if LSTM in members else None
        char_features = LinearTextModel.load(model_dir / char_spec["features"]) if char_spec else None
        return cls(
            model_dir,
            members,
            int(params["n_classes"]),
            int(params["max_len"]),
            threads,
            batch_size,
            linear,
            vocab,
            char_features=char_features,
            char_len=int(char_spec["shape"][1]) if char_spec else 0,
        )

    def member_probabilities(self, texts: Sequence[Any], tokens: Sequence[Any]) -> dict[str, np.ndarray]:
        """Each member's probabilities [n, k] for the rows (``texts`` and ``tokens`` aligned)."""
        out: dict[str, np.ndarray] = {}
        for member in self.members:
            if member == LSTM:
                ids = np.array([tokens_to_ids(t, self._vocab, self.max_len) for t in tokens], dtype=np.int32).reshape(
                    -1, self.max_len
                )
                more = {}
                if self.char_features is not None:
                    char_ids, char_weights = self.char_features.sparse_inputs(texts, self.char_len)
                    more = {"char_ids": char_ids, "char_weights": char_weights}
                out[member] = self._lstm(ids, more)
            else:
                model = self.linear[member]
                out[member] = model.probabilities(tokens if model.column == "tokens" else texts)
        return out

    def predict(self, texts: Sequence[Any], tokens: Sequence[Any]) -> np.ndarray:
        if len(texts) != len(tokens):
            raise ValueError(f"{len(texts)} texts for {len(tokens)} token lists")
        if len(texts) == 0:
            return np.zeros((0, self.n_classes), dtype=np.float32)
        return mix(self.member_probabilities(texts, tokens), self.members).astype(np.float32)

    def predict_raw(self, raw_texts: Sequence[str | None]) -> np.ndarray:
        """Probabilities for raw review texts (serving)."""
        if self._text_to_ids is None:
            self._text_to_ids = TextToIds.from_model_dir(self.model_dir)
        helper = self._text_to_ids
        texts = [helper.clean(t) for t in raw_texts]
        tokens = [helper.tokens(t) for t in raw_texts]
        return self.predict(texts, tokens)

    def _lstm(self, ids: np.ndarray, more: Mapping[str, np.ndarray]) -> np.ndarray:
        predict = load_predictor(str(self.model_dir / "saved_model"), self.threads)
        b = self.batch_size
        parts = [predict(ids[i : i + b], **{n: a[i : i + b] for n, a in more.items()}) for i in range(0, len(ids), b)]
        return np.concatenate(parts).astype(np.float64)

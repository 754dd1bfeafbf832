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

The folder also holds the champion as one SavedModel, ``champion_model/``
(:mod:`reviewlake.train.champion_model`: the members' probabilities weighted in the graph), what TF
Serving loads. :class:`Scorer` serves through it, so batch scoring, the Python scorer and TF
Serving run one model; :meth:`Scorer.serving_inputs` builds its inputs. A folder exported before
it is served member by member (each member's probabilities, then :func:`mix`).
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
CHAMPION_MODEL = "champion_model"
LINEAR_DIR = "linear"
LSTM = "lstm"
ENSEMBLE = "ensemble"

_lock = threading.Lock()
_saved_models: dict[str, tuple[Any, Any]] = {}


def load_predictor(saved_model: str, threads: int = 1) -> Callable[..., np.ndarray]:
    """``predict(token_ids=None, **inputs) -> probabilities [n, k] float32`` through the
    ``serving_default`` signature of the SavedModel at ``saved_model`` (each input cast to the
    signature's dtype; the LSTM's takes ``token_ids`` int32 [n, max_len], ``wide_lstm``'s also
    ``char_ids`` and ``char_weights``; the champion's: :mod:`reviewlake.train.champion_model`);
    loaded on first use in this process, then served from the cache."""
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
    specs = signature.structured_input_signature[1]

    def predict(token_ids: np.ndarray | None = None, /, **inputs: np.ndarray) -> np.ndarray:
        import tensorflow as tf

        if token_ids is not None:
            inputs["token_ids"] = token_ids
        feed = {name: tf.constant(a, dtype=specs[name].dtype) for name, a in inputs.items()}
        return signature(**feed)["probabilities"].numpy()

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


def linear_input_names(kind: str) -> tuple[str, str]:
    """The champion SavedModel's inputs of linear member ``kind``: its feature ids and weights."""
    return f"{kind}_ids", f"{kind}_weights"


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
    Both run the version's ``champion_model/`` SavedModel (``champion_model`` is its path; None for
    a folder exported before it: each member, then :func:`mix`). An LSTM with char inputs
    (``wide_lstm``, params.json ``char_inputs``) gets them from the version's char linear model.
    Loading it imports no TensorFlow; predicting does."""

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
    champion_model: Path | None = None

    @classmethod
    def from_model_dir(cls, model_dir: str | Path, threads: int = 1, batch_size: int = 512) -> Scorer:
        model_dir = Path(model_dir)
        params = json.loads((model_dir / "params.json").read_text(encoding="utf-8"))
        members = {m: float(w) for m, w in read(model_dir)["members"].items() if w}
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
            champion_model=model_dir / CHAMPION_MODEL if (model_dir / CHAMPION_MODEL).is_dir() else None,
        )

    def serving_inputs(self, texts: Sequence[Any], tokens: Sequence[Any]) -> dict[str, np.ndarray]:
        """The champion SavedModel's inputs for the rows (``texts`` and ``tokens`` aligned), by
        name (:mod:`reviewlake.train.champion_model`): with the LSTM ``token_ids`` [n, max_len]
        (and for ``wide_lstm`` ``char_ids``/``char_weights`` [n, char_len]); per linear member
        ``<kind>_ids``/``<kind>_weights`` [n, w], w the most features any of the rows has (>= 1).
        What a TF Serving request carries (``.tolist()`` each)."""
        out = self._lstm_inputs(texts, tokens) if LSTM in self.members else {}
        for kind, model in self.linear.items():
            ids, weights = model.sparse_inputs(tokens if model.column == "tokens" else texts)
            out.update(zip(linear_input_names(kind), (ids, weights), strict=True))
        return out

    def serving_inputs_raw(self, raw_texts: Sequence[str | None]) -> dict[str, np.ndarray]:
        """:meth:`serving_inputs` for raw review texts."""
        return self.serving_inputs(*self._cleaned(raw_texts))

    def member_probabilities(self, texts: Sequence[Any], tokens: Sequence[Any]) -> dict[str, np.ndarray]:
        """Each member's probabilities [n, k] (float64) for the rows, member by member (the LSTM
        from ``saved_model/``, a linear member in numpy)."""
        out: dict[str, np.ndarray] = {}
        for member in self.members:
            if member == LSTM:
                out[member] = self._run(self.model_dir / "saved_model", self._lstm_inputs(texts, tokens))
            else:
                model = self.linear[member]
                out[member] = model.probabilities(tokens if model.column == "tokens" else texts)
        return out

    def predict(self, texts: Sequence[Any], tokens: Sequence[Any]) -> np.ndarray:
        """The champion's probabilities [n, k] (float32): ``champion_model/`` on
        :meth:`serving_inputs` in batches of ``batch_size`` rows, or without it :func:`mix` of
        :meth:`member_probabilities`."""
        if len(texts) != len(tokens):
            raise ValueError(f"{len(texts)} texts for {len(tokens)} token lists")
        if len(texts) == 0:
            return np.zeros((0, self.n_classes), dtype=np.float32)
        if self.champion_model is None:
            return mix(self.member_probabilities(texts, tokens), self.members).astype(np.float32)
        predict = load_predictor(str(self.champion_model), self.threads)
        b = self.batch_size
        parts = [predict(**self.serving_inputs(texts[i : i + b], tokens[i : i + b])) for i in range(0, len(texts), b)]
        return np.concatenate(parts).astype(np.float32)

    def predict_raw(self, raw_texts: Sequence[str | None]) -> np.ndarray:
        """Probabilities for raw review texts (serving)."""
        return self.predict(*self._cleaned(raw_texts))

    def _cleaned(self, raw_texts: Sequence[str | None]) -> tuple[list[str], list[list[str]]]:
        """Silver's ``text`` and ``tokens`` of raw review texts."""
        if self._text_to_ids is None:
            self._text_to_ids = TextToIds.from_model_dir(self.model_dir)
        helper = self._text_to_ids
        return [helper.clean(t) for t in raw_texts], [helper.tokens(t) for t in raw_texts]

    def _lstm_inputs(self, texts: Sequence[Any], tokens: Sequence[Any]) -> dict[str, np.ndarray]:
        """``token_ids`` [n, max_len] int32, and with char inputs ``char_ids``/``char_weights``."""
        ids = np.array([tokens_to_ids(t, self._vocab, self.max_len) for t in tokens], dtype=np.int32)
        out = {"token_ids": ids.reshape(-1, self.max_len)}
        if self.char_features is not None:
            char_ids, char_weights = self.char_features.sparse_inputs(texts, self.char_len)
            out.update(char_ids=char_ids, char_weights=char_weights)
        return out

    def _run(self, saved_model: Path, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        """The SavedModel's probabilities (float64) for ``inputs`` of the same rows, in batches."""
        predict = load_predictor(str(saved_model), self.threads)
        b, n = self.batch_size, len(next(iter(inputs.values())))
        parts = [predict(**{name: a[i : i + b] for name, a in inputs.items()}) for i in range(0, n, b)]
        return np.concatenate(parts).astype(np.float64)

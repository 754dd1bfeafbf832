"""Model versions on disk: ``<models_dir>/<version>/`` and the ``<models_dir>/LATEST`` pointer.

A version folder holds:

* ``champion_model/``  the version's model, the champion, as one SavedModel: what TF Serving
  loads (deploy/tf_serving/models.config), batch scoring and the Python scorer run; its
  ``serving_default`` signature takes its members' inputs and returns ``probabilities`` (float32
  ``[batch, n_classes]``), their weighted sum (reviewlake/train/champion_model.py);
* ``saved_model/``  the LSTM alone (a candidate; a member when the champion weighs it), Keras 2
  SavedModel; its ``serving_default`` signature takes ``token_ids`` (int32 ``[batch, max_len]``),
  for ``wide_lstm`` also ``char_ids`` (int32) and ``char_weights`` (float32) ``[batch, char_len]``
  (params.json ``char_inputs``: the features of ``linear/char_1_4gram.npz``), and returns
  ``probabilities`` (float32 ``[batch, n_classes]``);
* ``vocab.txt``     one token per line, line i = token id i (line 0 ``<pad>``, line 1 ``<oov>``);
* ``labels.json``   class names in id order;
* ``params.json``   model shape, training parameters and data lineage;
* ``metrics.json``  test metrics and baselines (see reviewlake/train/evaluate.py);
* ``training_curves.png``, ``confusion_matrix.png``;
* ``README.md``     the model card (reviewlake/train/model_card.py);
* ``preprocessing.json``  clean rules, user dictionary, stopwords: raw text -> ids for serving
  (``reviewlake.text.serving.TextToIds.from_model_dir``);
* ``champion.json``, ``linear/<kind>.npz``  the champion's members and weights, and the linear
  models (reviewlake/train/champion.py: ``Scorer.from_model_dir`` serves the champion);
* ``test_probabilities.npz``  the champion's probabilities on the test split (``review_id``,
  ``probabilities``): what scoring and serving must reproduce;
* ``reliability.png``  accuracy against confidence on the test split, per candidate.

The folder is assembled under a temporary name and renamed into place, then ``LATEST`` is replaced
atomically, so a reader never sees a half-written version. ``models_dir`` is a local (or
mounted shared) filesystem path: batch scoring reads ``champion_model/`` from the executors.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from reviewlake.text.serving import PREPROCESSING_FILE
from reviewlake.train import evaluate
from reviewlake.train.champion import CHAMPION_MODEL
from reviewlake.train.champion import write as write_champion
from reviewlake.train.champion_model import save_champion_model
from reviewlake.train.linear import LinearTextModel
from reviewlake.train.metrics import Metrics
from reviewlake.train.model_card import model_card
from reviewlake.train.records import to_json
from reviewlake.train.version_params import VersionParams

LATEST = "LATEST"
TEST_PROBABILITIES = "test_probabilities.npz"
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def new_version(now: datetime | None = None) -> str:
    """A UTC timestamp version name, e.g. ``20261127T153000Z``."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def choose_version(requested: str | None, models_dir: Path) -> str:
    """``requested`` (must be new), or for ``auto``/empty a fresh timestamp not used yet."""
    if requested and str(requested) != "auto":
        version = str(requested)
        if not _VERSION.match(version) or version == LATEST:
            raise ValueError(f"bad model version name {version!r}")
        if (models_dir / version).exists():
            raise FileExistsError(f"model version {version} already exists in {models_dir}")
        return version
    version = new_version()
    n = 1
    while (models_dir / (version if n == 1 else f"{version}-{n}")).exists():
        n += 1
    return version if n == 1 else f"{version}-{n}"


def save_keras_model(model, path: Path, max_len: int, char_len: int | None = None) -> None:
    """SavedModel with a ``serving_default`` signature: int32 token ids (and with ``char_len`` the
    char n-gram ids and weights) -> probabilities."""
    import tensorflow as tf

    if char_len is None:

        @tf.function(input_signature=[tf.TensorSpec([None, max_len], tf.int32, name="token_ids")])
        def serve(token_ids):
            return {"probabilities": model(token_ids, training=False)}
    else:

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, max_len], tf.int32, name="token_ids"),
                tf.TensorSpec([None, char_len], tf.int32, name="char_ids"),
                tf.TensorSpec([None, char_len], tf.float32, name="char_weights"),
            ]
        )
        def serve(token_ids, char_ids, char_weights):
            return {"probabilities": model([token_ids, char_ids, char_weights], training=False)}

    model.save(str(path), save_format="tf", include_optimizer=False, signatures={"serving_default": serve})


def _write_json(path: Path, value: Any) -> None:
    path.write_text(
        json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str) + "\n", encoding="utf-8"
    )


@dataclass(frozen=True)
class ChampionFiles:
    """What a version's champion files hold: its ``name`` and ``members`` (weights), the fitted
    ``linear`` models, its probabilities on the test rows and the candidates' reliability curves."""

    name: str
    members: dict[str, float]
    linear: Mapping[str, LinearTextModel]
    test_review_ids: np.ndarray
    test_probabilities: np.ndarray
    reliability: Mapping[str, Mapping[str, list]]


def export_model(
    model,
    models_dir: Path,
    params: VersionParams,
    metrics: Metrics,
    *,
    vocab_lines: Sequence[str],
    preprocessing: Mapping[str, Any],
    champion: ChampionFiles,
    update_latest: bool = True,
) -> Path:
    """Write the folder of version ``params.version`` (atomically renamed into place) and point
    ``LATEST`` at it: the champion's SavedModel and the LSTM's, vocabulary, labels, params,
    metrics, plots, model card (``README.md``), what serving needs to turn raw text into ids
    (``preprocessing``: :mod:`reviewlake.text.serving`) and the files of the version's champion."""
    version = params.version
    models_dir.mkdir(parents=True, exist_ok=True)
    final = models_dir / version
    if final.exists():
        raise FileExistsError(f"model version {version} already exists in {models_dir}")
    tmp = models_dir / f".tmp-{version}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        char_len = params.char_inputs.shape[1] if params.char_inputs is not None else None
        save_keras_model(model, tmp / "saved_model", params.max_len, char_len)
        (tmp / "vocab.txt").write_text("\n".join(vocab_lines) + "\n", encoding="utf-8")
        _write_json(tmp / "labels.json", list(params.labels))
        _write_json(tmp / "params.json", to_json(params))
        _write_json(tmp / "metrics.json", to_json(metrics))
        _write_json(tmp / PREPROCESSING_FILE, dict(preprocessing))
        (tmp / "README.md").write_text(model_card(params, metrics), encoding="utf-8")
        _write_plots(tmp, metrics)
        _write_champion(tmp, champion)
        save_champion_model(tmp / CHAMPION_MODEL, champion.members, champion.linear, model, params.max_len, char_len)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if update_latest:
        set_latest(models_dir, version)
    return final


def _write_plots(folder: Path, metrics: Metrics) -> None:
    evaluate.plot_training_curves(metrics.history, folder / "training_curves.png")
    cm = metrics.test.confusion_matrix
    evaluate.plot_confusion_matrix(cm.matrix, cm.labels, folder / "confusion_matrix.png")


def _write_champion(folder: Path, champion: ChampionFiles) -> None:
    write_champion(folder, champion.name, champion.members, champion.linear)
    np.savez_compressed(
        folder / TEST_PROBABILITIES,
        review_id=np.asarray(champion.test_review_ids, dtype=np.str_),
        probabilities=np.asarray(champion.test_probabilities, dtype=np.float32),
    )
    evaluate.plot_reliability(champion.reliability, folder / "reliability.png")


def set_latest(models_dir: Path, version: str) -> None:
    tmp = models_dir / f".{LATEST}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(tmp, models_dir / LATEST)


def resolve_version(models_dir: Path, version: str | None = "latest") -> str:
    """The version name for ``version`` (``latest``/empty: the one named in ``LATEST``)."""
    if not version or str(version).lower() == "latest":
        pointer = models_dir / LATEST
        if not pointer.is_file():
            raise FileNotFoundError(f"no trained model: {pointer} is missing (run `make train`)")
        version = pointer.read_text(encoding="utf-8").strip()
    version = str(version)
    if not (models_dir / version / "saved_model").is_dir():
        raise FileNotFoundError(f"model version {version} not found under {models_dir}")
    return version


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))

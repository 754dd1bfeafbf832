"""Batch scoring in Spark: each silver row's cleaned ``text`` and ``tokens`` through a model
version's champion (:class:`reviewlake.train.champion.Scorer`, the scorer serving uses too: the
version's ``champion_model/`` SavedModel, the one TF Serving loads, on the inputs the scorer makes
from the rows: ids from the model's own ``vocab.txt``, the linear members' n-gram features) in an
Iterator Arrow pandas UDF. The scorer is loaded once per Python worker
(module-level cache keyed by path) and reused by every batch and every task that worker runs.

The model files are read by the executors from ``<models_dir>/<version>/``: on a cluster
``models_dir`` must be a filesystem every executor mounts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from reviewlake.core.settings import Score
from reviewlake.train import export
from reviewlake.train.champion import Scorer

PREDICTION_KEYS = ("review_id", "model_version")
PREDICTION_COLUMNS = ("review_id", "model_version", "probabilities", "predicted_label", "scored_at")

_scorers: dict[tuple[str, int, int], Scorer] = {}


def _scorer(model_dir: str, threads: int, batch_size: int) -> Scorer:
    """One :class:`Scorer` per Python worker and model version: loaded by the first batch, reused by
    every later batch and task of that worker."""
    key = (model_dir, threads, batch_size)
    if key not in _scorers:
        _scorers[key] = Scorer.from_model_dir(model_dir, threads, batch_size)
    return _scorers[key]


def prediction_column(
    text: Column, tokens: Column, model_dir: Path, n_classes: int, batch_size: int = 512, threads: int = 1
) -> Column:
    """struct<probabilities array<float>, label_index int> of the version's champion for silver's
    ``text`` (cleaned) and ``tokens`` columns."""
    schema = T.StructType(
        [
            T.StructField("probabilities", T.ArrayType(T.FloatType())),
            T.StructField("label_index", T.IntegerType()),
        ]
    )
    path = str(model_dir)

    @F.pandas_udf(schema)
    def _predict(batches: Iterator[tuple[pd.Series, pd.Series]]) -> Iterator[pd.DataFrame]:
        scorer = _scorer(path, threads, batch_size)
        for texts, token_lists in batches:
            probs = scorer.predict(list(texts), list(token_lists))
            yield pd.DataFrame(
                {
                    "probabilities": list(probs),
                    "label_index": probs.argmax(axis=1).astype(np.int32) if len(probs) else np.zeros(0, np.int32),
                }
            )

    return _predict(text, tokens)


def score(silver: DataFrame, model_dir: Path, version: str, scored_at: datetime, settings: Score) -> DataFrame:
    """gold.predictions rows for every row of ``silver`` with the model in ``model_dir``."""
    labels = export.read_json(model_dir / "labels.json")
    pred = prediction_column(
        F.col("text"), F.col("tokens"), model_dir, len(labels), settings.batch_size, settings.tf_threads
    )
    label_names = F.array(*[F.lit(str(name)) for name in labels])
    return (
        silver.select("review_id", "text", "tokens")
        .withColumn("_pred", pred)
        .select(
            "review_id",
            F.lit(version).alias("model_version"),
            F.col("_pred.probabilities").alias("probabilities"),
            F.element_at(label_names, F.col("_pred.label_index") + 1).alias("predicted_label"),
            F.lit(scored_at).cast("timestamp").alias("scored_at"),
        )
    )

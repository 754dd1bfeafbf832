"""The score_reviews job: silver.reviews -> gold.predictions with one exported model version.

Each silver row's cleaned ``text`` and ``tokens`` go through the version's champion
(:class:`reviewlake.train.champion.Scorer`, the scorer serving uses too: the LSTM's SavedModel on
ids from the model's own ``vocab.txt``, the linear TF-IDF models, or their weighted mean) in an
Iterator Arrow pandas UDF. The scorer is loaded once per Python worker (module-level cache keyed
by path) and reused by every batch and every task that worker runs. Results are MERGEd into
gold.predictions on (``review_id``, ``model_version``), so scoring the same rows with the same
model again updates them (``scored_at``) instead of adding rows.

The model files are read by the executors from ``<models_dir>/<version>/``: on a cluster
``models_dir`` must be a filesystem every executor mounts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.storagelevel import StorageLevel

from reviewlake.core import delta_io, tables
from reviewlake.core.config import Config, local_path, to_uri
from reviewlake.core.report import RunReport
from reviewlake.errors import InputError
from reviewlake.train import export
from reviewlake.train.champion import Scorer

log = logging.getLogger("score_reviews")

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


def score(
    silver: DataFrame, model_dir: Path, version: str, scored_at: datetime, batch_size: int = 512, threads: int = 1
) -> DataFrame:
    """gold.predictions rows for every row of ``silver`` with the model in ``model_dir``."""
    labels = export.read_json(model_dir / "labels.json")
    pred = prediction_column(F.col("text"), F.col("tokens"), model_dir, len(labels), batch_size, threads)
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


def run(spark: SparkSession, cfg: Config, model_version: str | None = None) -> dict[str, Any]:
    """Score silver.reviews with ``model_version`` (default ``score.model_version``; ``latest`` =
    the version in ``<models_dir>/LATEST``) into gold.predictions; returns a summary."""
    report = RunReport("score_reviews")
    models_dir = local_path(to_uri(cfg["models_dir"]))
    silver_uri = tables.uri(cfg, "silver", "reviews")
    out_uri = tables.uri(cfg, "gold", "predictions")
    report.watch(spark, {"predictions": out_uri})
    try:
        with report.stage("resolve_model") as st:
            version = export.resolve_version(models_dir, model_version or cfg["score.model_version"])
            model_dir = models_dir / version
            st.detail = {"version": version, "path": str(model_dir)}
        if not delta_io.exists(spark, silver_uri):
            raise InputError(f"silver.reviews not found at {silver_uri}: run `make clean-reviews` first")
        scored_at = datetime.now(UTC).replace(microsecond=0)
        with report.stage("score") as st:
            silver = delta_io.read(spark, silver_uri)
            scored = score(silver, model_dir, version, scored_at, cfg["score.batch_size"], cfg["score.tf_threads"])
            # computed once: MERGE reads its source more than once
            scored = scored.persist(StorageLevel.MEMORY_AND_DISK)
            n = scored.count()
            st.rows_out = n
            counts = {r["predicted_label"]: r["count"] for r in scored.groupBy("predicted_label").count().collect()}
            st.detail = {"predicted": counts}
        with report.stage("merge") as st:
            before = delta_io.version(spark, out_uri)
            delta_io.merge(spark, scored, out_uri, PREDICTION_KEYS)
            st.rows_in = n
            st.detail = {"table": out_uri, "version_before": before, "version_after": delta_io.version(spark, out_uri)}
            scored.unpersist()
        report.summary["score"] = {
            "model_version": version,
            "rows": n,
            "predicted": counts,
            "table": out_uri,
            "scored_at": scored_at.isoformat(),
        }
    finally:
        report.write(local_path(to_uri(cfg["reports_dir"])))
    return {"model_version": version, "rows": n, "table": out_uri, "report": report.to_dict()}


def main(argv: list[str] | None = None) -> int:
    from reviewlake.core import cli

    p = cli.parser("Score silver.reviews with a trained model version into gold.predictions.", with_input=False)
    p.add_argument("--model-version", help="folder name under models_dir, or `latest` (default: score.model_version)")

    def job(args, cfg):
        from reviewlake.core.spark import get_spark

        run(get_spark(cfg), cfg, model_version=args.model_version)

    return cli.run("score_reviews", job, p, argv)


if __name__ == "__main__":
    import sys

    sys.exit(main())

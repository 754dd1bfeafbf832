"""A published table as tests compare it across runs: columns that name the run (batch ids,
timestamps) dropped, TF-IDF vectors as arrays (chispa compares arrays, not ML vectors)."""
from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from pipelines.core import delta_io
from pipelines.core.config import load_config

RUN_COLUMNS = ("batch_id", "ingested_at", "detected_at")


def comparable(spark: SparkSession, lake: Path | str, layer: str, name: str) -> DataFrame:
    """``<lake>/<layer>/<name>`` (a path or any URI) without the run's own columns."""
    df = delta_io.read(spark, delta_io.table_uri(load_config(overrides=[f"lakehouse={lake}"]), layer, name))
    if "tfidf" in df.columns:
        from pyspark.ml.functions import vector_to_array

        df = df.withColumn("tfidf", vector_to_array("tfidf"))
    return df.drop(*[c for c in RUN_COLUMNS if c in df.columns])

"""Helpers the integration tests share: published tables as tests compare them across runs,
their Delta versions, and a free loopback port for the servers tests start."""
from __future__ import annotations

import socket
from pathlib import Path
from typing import Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from reviewlake.core import delta_io, tables
from reviewlake.core.config import load_config

RUN_COLUMNS = ("batch_id", "ingested_at", "detected_at")
# every table clean_reviews writes, in the order a first run commits them
CLEAN_REVIEWS_TABLES = (("bronze", "reviews_raw"), ("bronze", "quarantine"), ("bronze", "files"),
                        ("silver", "reviews"), ("silver", "dedupe_index"), ("silver", "disposition"))
JOB_TABLES = (("bronze", "reviews_raw"), ("bronze", "files"), ("silver", "reviews"), ("silver", "disposition"),
              ("silver", "dedupe_index"))


def comparable(spark: SparkSession, lake: Path | str, layer: str, name: str,
               drop: Sequence[str] = RUN_COLUMNS) -> DataFrame:
    """``<lake>/<layer>/<name>`` (a path or any URI) without the columns in ``drop`` (by default
    the run's own: batch ids, timestamps), TF-IDF vectors as arrays and maps (bronze ``extra``) as
    JSON, so that chispa can sort and compare the rows."""
    df = delta_io.read(spark, tables.uri(load_config(overrides=[f"lakehouse={lake}"]), layer, name))
    if "tfidf" in df.columns:
        from pyspark.ml.functions import vector_to_array

        df = df.withColumn("tfidf", vector_to_array("tfidf"))
    df = df.drop(*[c for c in drop if c in df.columns])
    return df.select(*[F.to_json(f.name).alias(f.name) if isinstance(f.dataType, T.MapType) else F.col(f.name)
                       for f in df.schema])


def versions(spark: SparkSession, lake: Path | str) -> dict:
    """The Delta version of each table ``clean_reviews`` writes (None where absent)."""
    cfg = load_config(overrides=[f"lakehouse={lake}"])
    return {n: delta_io.version(spark, tables.uri(cfg, *n)) for n in JOB_TABLES}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

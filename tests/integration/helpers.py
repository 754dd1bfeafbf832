"""Helpers the integration tests share: published tables as tests compare them across runs,
their Delta versions, a table's rows as Spark and as readers without Spark (delta-rs, Polars) read
them, and a free loopback port for the servers tests start."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from reviewlake.core import delta_io, tables
from reviewlake.core.config import load_config
from reviewlake.core.uris import local_path

# a run's own columns; row_hash hashes batch_id with the rest (tests/integration/test_jobs.py checks it)
RUN_COLUMNS = ("batch_id", "ingested_at", "detected_at", "row_hash")
# every table clean_reviews writes, in the order a first run commits them
CLEAN_REVIEWS_TABLES = (
    ("bronze", "reviews_raw"),
    ("bronze", "quarantine"),
    ("bronze", "files"),
    ("silver", "reviews"),
    ("silver", "dedupe_index"),
    ("silver", "disposition"),
)
JOB_TABLES = (
    ("bronze", "reviews_raw"),
    ("bronze", "files"),
    ("silver", "reviews"),
    ("silver", "disposition"),
    ("silver", "dedupe_index"),
)


def comparable(
    spark: SparkSession, lake: Path | str, layer: str, name: str, drop: Sequence[str] = RUN_COLUMNS
) -> DataFrame:
    """``<lake>/<layer>/<name>`` (a path or any URI) without the columns in ``drop`` (by default
    the run's own: batch ids, timestamps) and with maps (bronze ``extra``) as JSON, so that chispa
    can sort and compare the rows."""
    df = delta_io.read(spark, tables.uri(load_config(overrides=[f"lakehouse={lake}"]), layer, name))
    df = df.drop(*[c for c in drop if c in df.columns])
    return df.select(
        *[F.to_json(f.name).alias(f.name) if isinstance(f.dataType, T.MapType) else F.col(f.name) for f in df.schema]
    )


# what silver and gold hold once clean_reviews and build_features ran: compared across storages
SILVER_AND_GOLD = (
    ("silver", "reviews"),
    ("silver", "disposition"),
    ("gold", "vocab"),
    ("gold", "features"),
    ("gold", "labels"),
)


def assert_same_tables(spark: SparkSession, lake: Path | str, other: Path | str, names=SILVER_AND_GOLD) -> None:
    """Each named table of ``lake`` holds the rows of ``other``'s (run stamps aside, any order)."""
    from chispa import assert_df_equality

    for layer, name in names:
        assert_df_equality(
            comparable(spark, lake, layer, name),
            comparable(spark, other, layer, name),
            ignore_row_order=True,
            ignore_column_order=True,
            ignore_nullable=True,
        )


def versions(spark: SparkSession, lake: Path | str) -> dict:
    """The Delta version of each table ``clean_reviews`` writes (None where absent)."""
    cfg = load_config(overrides=[f"lakehouse={lake}"])
    return {n: delta_io.version(spark, tables.uri(cfg, *n)) for n in JOB_TABLES}


def _plain(value: Any, dtype: T.DataType) -> Any:
    """A cell as a hashable Python value, whether Spark (Row, dict, bytearray), delta-rs through
    Arrow or Polars (dict, list of pairs, tz-aware datetime, bytes) produced it; ``dtype``: Spark's
    type of the column."""
    if value is None:
        return None
    if isinstance(dtype, T.MapType):
        items = value.items() if isinstance(value, dict) else value
        return tuple(sorted((k, _plain(v, dtype.valueType)) for k, v in items))
    if isinstance(dtype, T.ArrayType):
        return tuple(_plain(v, dtype.elementType) for v in value)
    if isinstance(dtype, T.StructType):
        return tuple(_plain(value[f.name], f.dataType) for f in dtype.fields)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone().replace(tzinfo=None)  # Spark gives local wall-clock time
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return value


def read_outside_spark(uri: str, reader: str) -> list[dict]:
    """The rows of the Delta table at ``uri`` as a reader without Spark gives them: ``deltalake``
    (delta-rs, through its ``QueryBuilder``, the reader docs/tables.md documents: it reads deletion
    vectors, which ``to_pyarrow_table`` refuses) or ``polars`` (``pl.read_delta``, delta-rs too, into
    Polars' own types)."""
    if reader == "deltalake":
        from deltalake import DeltaTable, QueryBuilder

        table = QueryBuilder().register("t", DeltaTable(uri)).execute("SELECT * FROM t").read_all()
        names = table.column_names  # an arro3 table: read by column (its string views are not pyarrow's)
        columns = [table.column(n).to_pylist() for n in names]
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    if reader == "polars":
        import polars as pl

        return pl.read_delta(str(local_path(uri))).to_dicts()
    raise ValueError(f"unknown reader {reader!r}")


def rows_by_spark_and(spark: SparkSession, uri: str, reader: str = "deltalake") -> tuple[list, list]:
    """The rows of the Delta table at ``uri`` read by Spark and by ``reader`` (:func:`read_outside_spark`),
    each as sorted comparable tuples in Spark's column order."""
    df = delta_io.read(spark, uri)
    fields = df.schema.fields
    by_spark = [tuple(_plain(r[f.name], f.dataType) for f in fields) for r in df.collect()]
    by_reader = [tuple(_plain(r[f.name], f.dataType) for f in fields) for r in read_outside_spark(uri, reader)]
    return sorted(by_spark, key=repr), sorted(by_reader, key=repr)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

"""Large Parquet landing files, read by row groups across Spark tasks.

A plain ``.parquet`` file of at least ``ingest.split_min_bytes`` (or over ``binaryFile``'s limit)
is read through Spark's Parquet source, one file at a time (each keeps its own schema): Spark cuts
it into ranges of ``spark.sql.files.maxPartitionBytes`` at row-group boundaries, one task each, and
``_metadata.row_index`` is each row's index in its file, the offset a whole-file read gives it, so
ids do not depend on the split. Each task hands its rows to
:meth:`~reviewlake.lake.ingest_parse.FileParser.parse_rows`, as a whole-file read does with
pyarrow's rows.

A file whose footer cannot be read is one quarantined record (``malformed_parquet``, its first
bytes), as in a whole-file read; damage found later, inside a row group, fails the task and so the
run (exit 1) rather than skipping rows without a trace.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC
from typing import Any

from pyspark import RDD
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from reviewlake.lake.ingest_parse import RECORD_FIELDS, FileParser, ReadOptions


def read_rows(spark: SparkSession, uri: str) -> DataFrame | None:
    """``index`` (the row's index in the file) and ``row`` (its columns as a struct) of every row
    of the Parquet file ``uri``; None when its footer cannot be read (not a Parquet file)."""
    try:
        rows = spark.read.parquet(uri)
    except Exception:  # noqa: BLE001 - any failure to read the footer means: not a usable parquet file
        return None
    columns = [F.col("`" + name.replace("`", "``") + "`") for name in rows.columns]
    return rows.select(F.col("_metadata.row_index").alias("index"), F.struct(*columns).alias("row"))


def _instants(schema: T.StructType) -> list[str]:
    """The top-level columns holding instants (Spark's TIMESTAMP, Parquet's UTC-adjusted one)."""
    return [f.name for f in schema.fields if isinstance(f.dataType, T.TimestampType)]


def parse(
    spark: SparkSession, uris: Sequence[str], heads: Mapping[str, bytes], options: ReadOptions
) -> tuple[RDD | None, list[dict[str, Any]]]:
    """The records of the Parquet files ``uris`` as tuples in :data:`RECORD_FIELDS` order (None
    when no file could be read), and the quarantined record of each file that could not, with its
    first bytes from ``heads``."""
    parser, opts = FileParser(options), options
    parts, refused = [], []
    for uri in uris:
        rows = read_rows(spark, uri)
        if rows is None:
            refused.append(parser.quarantine(uri, heads.get(uri, b""), "malformed_parquet"))
            continue
        instants = _instants(rows.schema["row"].dataType)

        def parse_partition(part: Iterable, uri: str = uri, instants: list[str] = instants):
            file_parser = FileParser(opts)
            for record in file_parser.parse_rows(uri, ((r[0], _as_pyarrow(r[1], instants)) for r in part)):
                yield tuple(record[f] for f in RECORD_FIELDS)

        parts.append(rows.rdd.mapPartitions(parse_partition))
    return (spark.sparkContext.union(parts) if parts else None), refused


def _as_pyarrow(row, instants: list[str]) -> dict[str, Any]:
    """A Spark row as pyarrow's ``to_pylist`` gives it: Spark hands an instant over as a naive
    local time, pyarrow as an aware UTC one."""
    values = row.asDict(recursive=True)
    for name in instants:
        if values.get(name) is not None:
            values[name] = values[name].astimezone(UTC)
    return values

"""Delta Lake I/O at the edges: table URIs, reads, overwrite and keyed MERGE writes."""
from __future__ import annotations

import logging
from typing import Sequence

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession

from pipelines.core.config import Config, to_uri

log = logging.getLogger(__name__)


def table_uri(cfg: Config, layer: str, name: str) -> str:
    """``<lakehouse>/<layer>/<name>`` as an absolute URI (DESIGN.md section 3)."""
    return f"{to_uri(cfg['lakehouse']).rstrip('/')}/{layer}/{name}"


def exists(spark: SparkSession, uri: str) -> bool:
    return DeltaTable.isDeltaTable(spark, uri)


def read(spark: SparkSession, uri: str, version: int | None = None) -> DataFrame:
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(uri)


def version(spark: SparkSession, uri: str) -> int | None:
    """The latest committed version of the table, ``None`` if it does not exist."""
    if not exists(spark, uri):
        return None
    row = DeltaTable.forPath(spark, uri).history(1).select("version").first()
    return int(row[0])


def overwrite(df: DataFrame, uri: str, partition_by: Sequence[str] = (), user_metadata: str | None = None) -> None:
    """Replace the table's content in one atomic Delta commit (schema replaced too);
    ``user_metadata`` is stored in the commit (``userMetadata`` of the table history)."""
    writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    if user_metadata is not None:
        writer = writer.option("userMetadata", user_metadata)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(uri)


def merge(spark: SparkSession, df: DataFrame, uri: str, keys: Sequence[str]) -> None:
    """Upsert ``df`` into the table by ``keys`` (creating it if absent): a rerun changes nothing."""
    if not exists(spark, uri):
        df.write.format("delta").mode("errorifexists").save(uri)
        return
    cond = " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)
    (
        DeltaTable.forPath(spark, uri)
        .alias("t")
        .merge(df.alias("s"), cond)
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )


def delete_path(spark: SparkSession, uri: str) -> None:
    """Recursively delete a path through Hadoop FS (works for file:, hdfs:, s3a:)."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(uri)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if fs.exists(hpath):
        fs.delete(hpath, True)

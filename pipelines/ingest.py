"""Stage 1, ingest: landing files -> parsed records (bronze) and quarantine, with lineage.

Files are read through Spark's ``binaryFile`` source, so any Hadoop URI works (``file:``,
``hdfs:``, ``s3a:``); each file is parsed in a Spark task by :mod:`pipelines.ingest_parse`
(encoding detection, per-record quarantine), so one bad line never kills a batch.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.ingest_parse import parse_files

RECORD_SCHEMA = T.StructType([
    T.StructField("review_id", T.StringType()),
    T.StructField("source_file", T.StringType(), False),
    T.StructField("record_offset", T.LongType(), False),
    T.StructField("raw_text", T.StringType()),
    T.StructField("rating", T.IntegerType()),
    T.StructField("label_raw", T.StringType()),
    T.StructField("product_id", T.StringType()),
    T.StructField("user_id", T.StringType()),
    T.StructField("created_at", T.TimestampType()),
    T.StructField("extra", T.MapType(T.StringType(), T.StringType())),
    T.StructField("quarantine_reason", T.StringType()),
    T.StructField("raw_record", T.BinaryType()),
])

BRONZE_COLUMNS = (
    "review_id", "batch_id", "source", "source_file", "record_offset", "ingested_at", "raw_text",
    "rating", "label_raw", "product_id", "user_id", "created_at", "extra",
)
QUARANTINE_COLUMNS = ("batch_id", "source_file", "record_offset", "raw_record", "reason", "detected_at")


EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def list_files(spark: SparkSession, inputs: Sequence[str]) -> list[tuple[str, int, int]]:
    """(path URI, size, mtime ms) of every file under the inputs (files, folders, globs), through
    Hadoop FileSystem so any URI scheme works. Hidden files (``.x``, ``_x``) are skipped, as Spark
    does. Raises FileNotFoundError naming the inputs that match nothing."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    found: dict[str, tuple[str, int, int]] = {}
    missing = []
    for uri in inputs:
        pattern = jvm.org.apache.hadoop.fs.Path(uri)
        fs = pattern.getFileSystem(conf)
        statuses = fs.globStatus(pattern) or []
        if not statuses:
            missing.append(uri)
        for status in statuses:
            if status.isDirectory():
                it = fs.listFiles(status.getPath(), True)
                while it.hasNext():
                    f = it.next()
                    found[f.getPath().toString()] = (f.getPath().toString(), f.getLen(), f.getModificationTime())
            else:
                found[status.getPath().toString()] = (status.getPath().toString(), status.getLen(),
                                                      status.getModificationTime())
    if missing:
        raise FileNotFoundError(f"input not found: {', '.join(missing)}")
    return sorted(v for k, v in found.items() if not k.rsplit("/", 1)[-1].startswith((".", "_")))


def read_landing(spark: SparkSession, paths: Sequence[str]) -> DataFrame:
    """The given files as rows (path, modificationTime, length, content). Spark's binaryFile
    source skips empty files; :func:`file_inventory` still accounts for them."""
    return spark.read.format("binaryFile").load(list(paths))


def file_inventory(spark: SparkSession, files: Sequence[tuple[str, int, int]]) -> DataFrame:
    """One row per listed file: ``source_file``, ``size``, ``mtime``, ``content_hash`` (sha-256;
    computed by Spark from the bytes, the constant hash of b"" for empty files)."""
    listing = spark.createDataFrame(list(files), "source_file string, size long, mtime long") \
        .withColumn("mtime", F.timestamp_millis("mtime"))
    non_empty = [f[0] for f in files if f[1] > 0]
    if not non_empty:
        return listing.withColumn("content_hash", F.lit(EMPTY_SHA256))
    hashes = read_landing(spark, non_empty).select(
        F.col("path").alias("source_file"), F.sha2(F.col("content"), 256).alias("content_hash"))
    return listing.join(hashes, "source_file", "left") \
        .withColumn("content_hash", F.coalesce("content_hash", F.lit(EMPTY_SHA256)))


def latest_files(file_log: DataFrame) -> DataFrame:
    """The file log's last entry per path: ``source_file``, ``size``, ``mtime``, ``content_hash``."""
    from pyspark.sql.window import Window

    return file_log.withColumn("_n", F.row_number().over(
        Window.partitionBy("source_file").orderBy(F.col("ingested_at").desc(), F.col("batch_id").desc()))
    ).where("_n = 1").select("source_file", "size", "mtime", "content_hash")


def stat_changed(files: Sequence[tuple[str, int, int]], latest: DataFrame | None) -> list[tuple[str, int, int]]:
    """The listed files whose (size, mtime) differ from their last log entry, or that have none:
    only these need hashing (as make and rsync do, a rewrite that keeps size and mtime goes
    unnoticed; ``--full`` re-reads everything)."""
    if latest is None:
        return list(files)
    seen = {(r[0], r[1], r[2]) for r in latest.select("source_file", "size", F.unix_millis("mtime")).collect()}
    return [f for f in files if (f[0], f[1], f[2]) not in seen]


def unseen_files(inventory: DataFrame, latest: DataFrame | None) -> DataFrame:
    """Files whose content hash differs from the last one the ingested-file log holds for their
    path (``latest``, see :func:`latest_files`): new or changed files (a file changed back to an
    earlier content is changed too)."""
    if latest is None:
        return inventory
    return inventory.join(latest.select("source_file", "content_hash"), ["source_file", "content_hash"], "left_anti")


def parse_records(landing: DataFrame, options: Mapping[str, Any]) -> DataFrame:
    """Parse each file's bytes into records (good or quarantined) with :data:`RECORD_SCHEMA`."""
    opts = dict(options)

    def parse_partition(rows):
        from pipelines.ingest_parse import RECORD_FIELDS

        for record in parse_files(((r.path, r.content) for r in rows), opts):
            yield tuple(record[f] for f in RECORD_FIELDS)

    rdd = landing.select("path", "content").rdd.mapPartitions(parse_partition)
    return landing.sparkSession.createDataFrame(rdd, RECORD_SCHEMA)


def to_bronze(records: DataFrame, batch_id: str, source: str) -> DataFrame:
    """The good records as ``bronze.reviews_raw`` rows (DESIGN.md section 3)."""
    return (
        records.where(F.col("quarantine_reason").isNull())
        .withColumn("batch_id", F.lit(batch_id))
        .withColumn("source", F.lit(source))
        .withColumn("ingested_at", F.current_timestamp())
        .select(*BRONZE_COLUMNS)
    )


def to_quarantine(records: DataFrame, batch_id: str) -> DataFrame:
    """The bad records as ``bronze.quarantine`` rows, raw bytes and reason kept."""
    return (
        records.where(F.col("quarantine_reason").isNotNull())
        .select(
            F.lit(batch_id).alias("batch_id"), "source_file", "record_offset", "raw_record",
            F.col("quarantine_reason").alias("reason"), F.current_timestamp().alias("detected_at"),
        )
    )


def dedupe_ids_within_batch(bronze: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Split off records whose source ``review_id`` repeats inside one batch.

    The first occurrence (by file, offset) stays; later ones are returned to be quarantined
    as ``duplicate_review_id`` so that a keyed MERGE never sees two source rows for one key.
    """
    from pyspark.sql.window import Window

    w = Window.partitionBy("review_id").orderBy("source_file", "record_offset")
    ranked = bronze.withColumn("_n", F.row_number().over(w))
    return ranked.where("_n = 1").drop("_n"), ranked.where("_n > 1").drop("_n")

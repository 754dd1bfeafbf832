"""Stage 1, ingest: landing files -> parsed records (bronze) and quarantine, with lineage.

Files are read through Spark's file sources, so any Hadoop URI works (``file:``, ``hdfs:``,
``s3a:``), and parsed in Spark tasks by :mod:`reviewlake.lake.ingest_parse` (encoding detection,
per-record quarantine), so one bad line never kills a batch. :func:`plan_reads` picks the path:
a JSON Lines, text or (``ingest.csv_quoted_newlines: false``) CSV file (plain, ``.gz``, ``.bz2``)
or a Parquet file of at least ``ingest.split_min_bytes``, or too long for ``binaryFile``, is read
in pieces across tasks (byte ranges of lines, :mod:`reviewlake.lake.ingest_lines`; row groups,
:mod:`reviewlake.lake.ingest_rows`); any other file whole, through ``binaryFile``, one task each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from reviewlake.core import listing
from reviewlake.core.storage import hadoop_fs
from reviewlake.lake import ingest_lines, ingest_rows
from reviewlake.lake.ingest_parse import RECORD_FIELDS, FileParser, parse_files, split_format

RECORD_SCHEMA = T.StructType(
    [
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
    ]
)

BRONZE_COLUMNS = (
    "review_id",
    "batch_id",
    "source",
    "source_file",
    "record_offset",
    "ingested_at",
    "raw_text",
    "rating",
    "label_raw",
    "product_id",
    "user_id",
    "created_at",
    "extra",
)
QUARANTINE_COLUMNS = ("batch_id", "source_file", "record_offset", "raw_record", "reason", "detected_at")


EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def list_files(spark: SparkSession, inputs: Sequence[str]) -> list[tuple[str, int, int]]:
    """(path URI, size, mtime ms) of every file under the inputs (files, folders, globs), through
    Hadoop FileSystem so any URI scheme works (plain local files and folders: see
    :mod:`reviewlake.core.listing`). Hidden files (``.x``, ``_x``) are skipped, as Spark does. Raises
    FileNotFoundError naming the inputs that match nothing."""
    found: dict[str, tuple[str, int, int]] = {}
    missing = []
    for uri in inputs:
        if listing.is_plain_local(uri):
            if not listing.list_local(uri[len("file:") :], found):
                missing.append(uri)
            continue
        fs, pattern = hadoop_fs(spark, uri)
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
                found[status.getPath().toString()] = (
                    status.getPath().toString(),
                    status.getLen(),
                    status.getModificationTime(),
                )
    if missing:
        raise FileNotFoundError(f"input not found: {', '.join(missing)}")
    return listing.visible(found)


BINARY_MAX_LENGTH = "spark.sql.sources.binaryFile.maxLength"


def read_limit(spark: SparkSession) -> int:
    """The largest file Spark's ``binaryFile`` source reads (``spark.sql.sources.binaryFile.maxLength``,
    at most 2^31 - 1 bytes): a longer one fails the whole read, so it is set aside beforehand."""
    return int(spark.conf.get(BINARY_MAX_LENGTH, str(2**31 - 1)))


def plan_reads(
    files: Sequence[tuple[str, int, int]], options: Mapping[str, Any], limit: int
) -> tuple[list, list, list]:
    """``files`` as (read whole, read in pieces, too large to read): in pieces, the files
    :func:`~reviewlake.lake.ingest_parse.split_format` accepts of at least
    ``options["split_min_bytes"]`` or over ``limit``; too large, the other files over ``limit``
    (binaryFile's read limit). ``options`` are the ingest options."""
    split_min = int(options.get("split_min_bytes", 1 << 26))
    whole, pieces, oversized = [], [], []
    for f in files:
        if split_format(f[0], options) and (f[1] >= split_min or f[1] > limit):
            pieces.append(f)
        else:
            (whole if f[1] <= limit else oversized).append(f)
    return whole, pieces, oversized


def read_landing(spark: SparkSession, paths: Sequence[str], skip_missing: bool = False) -> DataFrame:
    """The given files as rows (path, modificationTime, length, content). Spark's binaryFile
    source skips empty files (:func:`file_inventory` still accounts for them). A file gone since
    it was listed fails the read, unless ``skip_missing``: then it is left out, whether it went
    before the read was planned (Spark then refuses the path list: retried without the paths that
    no longer exist) or while it runs (``ignoreMissingFiles``)."""
    reader = spark.read.format("binaryFile").option("ignoreMissingFiles", str(skip_missing).lower())
    try:
        return reader.load(list(paths))
    except AnalysisException as exc:
        if not skip_missing or "PATH_NOT_FOUND" not in str(exc):
            raise
    present = [p for p in paths if _exists(spark, p)]
    if not present:
        return spark.createDataFrame([], "path string, modificationTime timestamp, length long, content binary")
    return reader.load(present)


def _exists(spark: SparkSession, uri: str) -> bool:
    fs, path = hadoop_fs(spark, uri)
    return bool(fs.exists(path))


def file_inventory(
    spark: SparkSession, files: Sequence[tuple[str, int, int]], known: Mapping[str, str | None] | None = None
) -> DataFrame:
    """One row per listed file: ``source_file``, ``size``, ``mtime``, ``content_hash`` (sha-256: the
    one in ``known`` for files hashed elsewhere (:func:`~reviewlake.lake.ingest_lines.scan`), else
    computed by Spark from the bytes; the constant hash of b"" for empty files, null for a file
    that vanished between listing and reading)."""
    known = dict(known or {})
    listing = spark.createDataFrame(list(files), "source_file string, size long, mtime long").withColumn(
        "mtime", F.timestamp_millis("mtime")
    )
    hashes = spark.createDataFrame(list(known.items()), "source_file string, content_hash string")
    to_read = [f[0] for f in files if f[1] > 0 and f[0] not in known]
    if to_read:
        hashes = hashes.unionByName(
            read_landing(spark, to_read, skip_missing=True).select(
                F.col("path").alias("source_file"), F.sha2(F.col("content"), 256).alias("content_hash")
            )
        )
    return listing.join(hashes, "source_file", "left").withColumn(
        "content_hash", F.when(F.col("size") == 0, F.lit(EMPTY_SHA256)).otherwise(F.col("content_hash"))
    )


def scan_files(
    spark: SparkSession, files: Sequence[tuple[str, int, int]], options: Mapping[str, Any]
) -> dict[str, ingest_lines.Scan]:
    """:func:`~reviewlake.lake.ingest_lines.scan` of each file to be read in pieces (one stream
    per file on the driver; they are few and large)."""
    head = max(ingest_lines.SNIFF_BYTES, int(options.get("max_record_bytes", 1 << 20)))
    return {f[0]: ingest_lines.scan(spark, f[0], head) for f in files}


def read_records(
    spark: SparkSession, uris: Sequence[str], scans: Mapping[str, ingest_lines.Scan], options: Mapping[str, Any]
) -> DataFrame:
    """The records (good or quarantined, :data:`RECORD_SCHEMA`) of the files ``uris``: those in
    ``scans`` read in pieces (a corrupt or binary one is one quarantined record), the others whole."""
    whole = [u for u in uris if u not in scans]
    parquet = [u for u in uris if u in scans and split_format(u, options) == "parquet"]
    lines = [u for u in uris if u in scans and u not in parquet]
    parser = FileParser(options)
    reasons = {u: scans[u].unreadable() for u in lines}
    refused = [parser.quarantine(u, scans[u].head, reason) for u, reason in reasons.items() if reason]
    lines = [u for u in lines if reasons[u] is None]
    parts = []
    if whole:
        parts.append(parse_records(read_landing(spark, whole), options))
    if lines:
        read = ingest_lines.read_lines(spark, lines)
        line_plan = ingest_lines.plan(spark, read, lines, options, {u: scans[u].head for u in lines})
        parts.append(spark.createDataFrame(ingest_lines.parse(read, line_plan, options), RECORD_SCHEMA))
    if parquet:
        rows, unread = ingest_rows.parse(spark, parquet, {u: scans[u].head for u in parquet}, options)
        refused += unread
        if rows is not None:
            parts.append(spark.createDataFrame(rows, RECORD_SCHEMA))
    records = spark.createDataFrame([tuple(r[f] for f in RECORD_FIELDS) for r in refused], RECORD_SCHEMA)
    for part in parts:
        records = records.unionByName(part)
    return records


def failed_file_rows(
    spark: SparkSession, failed: Sequence[tuple[str, int, int, str]], batch_id: str
) -> tuple[DataFrame, DataFrame]:
    """For files that could not be read (``(path, size, mtime ms, reason)``): their
    ``bronze/files`` rows (content hash null: not ingested, so a later run tries them again) and
    one ``bronze/quarantine`` row each (offset 0, no bytes, the reason)."""
    rows = [(p, int(size), int(mtime), reason) for p, size, mtime, reason in failed]
    frame = spark.createDataFrame(rows, "source_file string, size long, mtime long, reason string")
    log_rows = frame.select(
        "source_file",
        "size",
        F.timestamp_millis("mtime").alias("mtime"),
        F.lit(None).cast("string").alias("content_hash"),
    )
    quarantine = frame.select(
        F.lit(batch_id).alias("batch_id"),
        "source_file",
        F.lit(0).cast("long").alias("record_offset"),
        F.lit(b"").cast("binary").alias("raw_record"),
        "reason",
        F.current_timestamp().alias("detected_at"),
    )
    return log_rows, quarantine


LOG_FIELDS = ("source_file", "size", "mtime_ms", "content_hash", "batch_id", "ingested_at")


def log_rows(file_log: DataFrame) -> list:
    """The file log on the driver (one row per file version ingested: small), with ``mtime_ms``."""
    return file_log.select(
        "source_file", "size", F.unix_millis("mtime").alias("mtime_ms"), "content_hash", "batch_id", "ingested_at"
    ).collect()


def latest_entries(rows: Iterable[Sequence], exclude: Iterable[str] = ()) -> dict[str, tuple[int, int, str]]:
    """path -> (size, mtime ms, content hash) of each path's last entry among the file log
    ``rows`` (:data:`LOG_FIELDS` order; last = latest ``ingested_at``, then ``batch_id``), less
    the paths in ``exclude`` (to be redone) and the entries of files that could not be read."""
    skip = set(exclude)
    best: dict[str, Sequence] = {}
    for r in rows:
        if r[0] in skip or r[3] is None:  # no hash: the file could not be read, try it again
            continue
        cur = best.get(r[0])
        if cur is None or (r[5], r[4]) > (cur[5], cur[4]):
            best[r[0]] = r
    return {path: (int(r[1]), int(r[2]), r[3]) for path, r in best.items()}


def stat_changed(
    files: Sequence[tuple[str, int, int]], latest: Mapping[str, tuple[int, int, str]]
) -> list[tuple[str, int, int]]:
    """The listed files whose (size, mtime) differ from their last log entry, or that have none:
    only these need hashing (as make and rsync do, a rewrite that keeps size and mtime goes
    unnoticed; ``--full`` re-reads everything)."""
    return [f for f in files if latest.get(f[0], (None, None))[:2] != (f[1], f[2])]


def unseen(inventory: Iterable, latest: Mapping[str, tuple[int, int, str]]) -> list:
    """Inventory rows (:func:`file_inventory`) whose content hash differs from the last one the
    file log holds for their path: new or changed files (a file changed back to an earlier
    content is changed too)."""
    return [r for r in inventory if latest.get(r["source_file"], (None, None, None))[2] != r["content_hash"]]


def parse_records(landing: DataFrame, options: Mapping[str, Any]) -> DataFrame:
    """Parse each file's bytes into records (good or quarantined) with :data:`RECORD_SCHEMA`."""
    opts = dict(options)

    def parse_partition(rows):
        from reviewlake.lake.ingest_parse import RECORD_FIELDS

        for record in parse_files(((r.path, r.content) for r in rows), opts):
            yield tuple(record[f] for f in RECORD_FIELDS)

    rdd = landing.select("path", "content").rdd.mapPartitions(parse_partition)
    return landing.sparkSession.createDataFrame(rdd, RECORD_SCHEMA)


def to_bronze(records: DataFrame, batch_id: str, source: str) -> DataFrame:
    """The good records as ``bronze.reviews_raw`` rows (docs/tables.md)."""
    return (
        records.where(F.col("quarantine_reason").isNull())
        .withColumn("batch_id", F.lit(batch_id))
        .withColumn("source", F.lit(source))
        .withColumn("ingested_at", F.current_timestamp())
        .select(*BRONZE_COLUMNS)
    )


def to_quarantine(records: DataFrame, batch_id: str) -> DataFrame:
    """The bad records as ``bronze.quarantine`` rows, raw bytes and reason kept."""
    return records.where(F.col("quarantine_reason").isNotNull()).select(
        F.lit(batch_id).alias("batch_id"),
        "source_file",
        "record_offset",
        "raw_record",
        F.col("quarantine_reason").alias("reason"),
        F.current_timestamp().alias("detected_at"),
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

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

from collections.abc import Mapping, Sequence

from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from reviewlake.core import listing
from reviewlake.core.listing import ListedFile
from reviewlake.core.storage import hadoop_fs
from reviewlake.lake import ingest_lines, ingest_rows
from reviewlake.lake.ingest_parse import RECORD_FIELDS, FileParser, ReadOptions, parse_files, split_format

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


def stable_id_column() -> Column:
    """:func:`reviewlake.lake.ingest_parse.stable_id` as a Spark column of ``source_file`` and
    ``record_offset``: the review id a record gets when its source gives none."""
    return F.sha1(F.concat_ws(":", "source_file", F.col("record_offset").cast("string")))


def list_files(spark: SparkSession, inputs: Sequence[str]) -> list[ListedFile]:
    """Every file under the inputs (files, folders, globs), through
    Hadoop FileSystem so any URI scheme works (plain local files and folders: see
    :mod:`reviewlake.core.listing`). Hidden files (``.x``, ``_x``) are skipped, as Spark does. Raises
    FileNotFoundError naming the inputs that match nothing."""
    found: dict[str, ListedFile] = {}
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
                    uri = f.getPath().toString()
                    found[uri] = ListedFile(uri, f.getLen(), f.getModificationTime())
            else:
                uri = status.getPath().toString()
                found[uri] = ListedFile(uri, status.getLen(), status.getModificationTime())
    if missing:
        raise FileNotFoundError(f"input not found: {', '.join(missing)}")
    return listing.visible(found)


BINARY_MAX_LENGTH = "spark.sql.sources.binaryFile.maxLength"


def read_limit(spark: SparkSession) -> int:
    """The largest file Spark's ``binaryFile`` source reads (``spark.sql.sources.binaryFile.maxLength``,
    at most 2^31 - 1 bytes): a longer one fails the whole read, so it is set aside beforehand."""
    return int(spark.conf.get(BINARY_MAX_LENGTH, str(2**31 - 1)))


def plan_reads(files: Sequence[ListedFile], options: ReadOptions, limit: int) -> tuple[list, list, list]:
    """``files`` as (read whole, read in pieces, too large to read): in pieces, the files
    :func:`~reviewlake.lake.ingest_parse.split_format` accepts of at least
    ``ingest.split_min_bytes`` or over ``limit``; too large, the other files over ``limit``
    (binaryFile's read limit)."""
    split_min = options.ingest.split_min_bytes
    whole, pieces, oversized = [], [], []
    for f in (ListedFile(*f) for f in files):
        if split_format(f.uri, options) and (f.size >= split_min or f.size > limit):
            pieces.append(f)
        else:
            (whole if f.size <= limit else oversized).append(f)
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
    spark: SparkSession, files: Sequence[ListedFile], known: Mapping[str, str | None] | None = None
) -> DataFrame:
    """One row per listed file: ``source_file``, ``size``, ``mtime``, ``content_hash`` (sha-256: the
    one in ``known`` for files hashed elsewhere (:func:`~reviewlake.lake.ingest_lines.scan`), else
    computed by Spark from the bytes; the constant hash of b"" for empty files, null for a file
    that vanished between listing and reading)."""
    known = dict(known or {})
    files = [ListedFile(*f) for f in files]
    listing = spark.createDataFrame(list(files), "source_file string, size long, mtime long").withColumn(
        "mtime", F.timestamp_millis("mtime")
    )
    hashes = spark.createDataFrame(list(known.items()), "source_file string, content_hash string")
    to_read = [f.uri for f in files if f.size > 0 and f.uri not in known]
    if to_read:
        hashes = hashes.unionByName(
            read_landing(spark, to_read, skip_missing=True).select(
                F.col("path").alias("source_file"), F.sha2(F.col("content"), 256).alias("content_hash")
            )
        )
    return listing.join(hashes, "source_file", "left").withColumn(
        "content_hash", F.when(F.col("size") == 0, F.lit(EMPTY_SHA256)).otherwise(F.col("content_hash"))
    )


def scan_files(spark: SparkSession, files: Sequence[ListedFile], options: ReadOptions) -> dict[str, ingest_lines.Scan]:
    """:func:`~reviewlake.lake.ingest_lines.scan` of each file to be read in pieces (one stream
    per file on the driver; they are few and large), a compressed one refused once it inflates
    past ``ingest.max_inflation_ratio`` x its size (it is streamed by lines, never held whole, so
    ``ingest.max_inflated_bytes`` does not apply)."""
    head = max(ingest_lines.SNIFF_BYTES, options.ingest.max_record_bytes)
    return {
        f.uri: ingest_lines.scan(spark, f.uri, head, options.ingest.inflation_limit(f.size, held=False))
        for f in (ListedFile(*f) for f in files)
    }


def read_records(
    spark: SparkSession, uris: Sequence[str], scans: Mapping[str, ingest_lines.Scan], options: ReadOptions
) -> DataFrame:
    """The records (good or quarantined, :data:`RECORD_SCHEMA`) of the files ``uris``: those in
    ``scans`` read in pieces (a corrupt, inflating too far or binary one is one quarantined record),
    the others whole."""
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


def parse_records(landing: DataFrame, options: ReadOptions) -> DataFrame:
    """Parse each file's bytes into records (good or quarantined) with :data:`RECORD_SCHEMA`."""
    opts = options

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


def quarantine_rows(rows: DataFrame, batch_id: str, reason: Column, raw_record: Column) -> DataFrame:
    """``bronze.quarantine`` rows (docs/tables.md), one per row of ``rows`` (which has
    ``source_file`` and ``record_offset``): the run's batch, the raw bytes and the reason. Every
    quarantine row is made here: unparseable records, repeated review ids, unreadable files."""
    return rows.select(
        F.lit(batch_id).alias("batch_id"),
        "source_file",
        F.col("record_offset").cast("long").alias("record_offset"),
        raw_record.cast("binary").alias("raw_record"),
        reason.alias("reason"),
        F.current_timestamp().alias("detected_at"),
    )


def to_quarantine(records: DataFrame, batch_id: str) -> DataFrame:
    """The bad records as ``bronze.quarantine`` rows, raw bytes and reason kept."""
    bad = records.where(F.col("quarantine_reason").isNotNull())
    return quarantine_rows(bad, batch_id, F.col("quarantine_reason"), F.col("raw_record"))


def dedupe_ids_within_batch(bronze: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Split off records whose source ``review_id`` repeats inside one batch.

    The first occurrence (by file, offset) stays; later ones are returned to be quarantined
    as ``duplicate_review_id`` so that a keyed MERGE never sees two source rows for one key.
    """
    from pyspark.sql.window import Window

    w = Window.partitionBy("review_id").orderBy("source_file", "record_offset")
    ranked = bronze.withColumn("_n", F.row_number().over(w))
    return ranked.where("_n = 1").drop("_n"), ranked.where("_n > 1").drop("_n")

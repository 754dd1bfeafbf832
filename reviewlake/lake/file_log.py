"""The file log (``bronze/files``): which landing files, in which version (size, mtime, content
hash), each batch ingested, and what it says about a new listing: the files to hash, the files
that are new or changed, and the log rows of files that could not be read.

A file is read again when its size or mtime differs from its last log entry (as make and rsync
do: a rewrite that keeps both goes unnoticed; ``--full`` re-reads everything) and ingested again
when its content hash differs. A file that could not be read is logged without a hash, so every
later run tries it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from reviewlake.core.listing import ListedFile
from reviewlake.lake.ingest import quarantine_rows


class LogEntry(NamedTuple):
    """One row of the file log: one version of one file, as a batch ingested it."""

    source_file: str
    size: int
    mtime_ms: int
    content_hash: str | None  # None: the file could not be read
    batch_id: str
    ingested_at: object  # datetime


class Version(NamedTuple):
    """What a file's last log entry says it was."""

    size: int
    mtime_ms: int
    content_hash: str


class FailedFile(NamedTuple):
    """A listed file that could not be read, and why (``file_too_large``, ``file_vanished``)."""

    uri: str
    size: int
    mtime_ms: int
    reason: str


def log_entries(file_log: DataFrame) -> list[LogEntry]:
    """The file log on the driver (one row per file version ingested: small)."""
    rows = file_log.select(
        "source_file", "size", F.unix_millis("mtime").alias("mtime_ms"), "content_hash", "batch_id", "ingested_at"
    ).collect()
    return [LogEntry(*r) for r in rows]


def latest_entries(rows: Iterable[Sequence], exclude: Iterable[str] = ()) -> dict[str, Version]:
    """path -> the :class:`Version` of each path's last entry among the file log ``rows``
    (:class:`LogEntry` fields in order; last = latest ``ingested_at``, then ``batch_id``), less
    the paths in ``exclude`` (to be redone) and the entries of files that could not be read."""
    skip = set(exclude)
    best: dict[str, LogEntry] = {}
    for entry in (LogEntry(*r) for r in rows):
        if entry.source_file in skip or entry.content_hash is None:  # not read: try it again
            continue
        cur = best.get(entry.source_file)
        if cur is None or (entry.ingested_at, entry.batch_id) > (cur.ingested_at, cur.batch_id):
            best[entry.source_file] = entry
    return {path: Version(int(e.size), int(e.mtime_ms), e.content_hash) for path, e in best.items()}


def stat_changed(files: Sequence[ListedFile], latest: Mapping[str, Version]) -> list[ListedFile]:
    """The listed files whose (size, mtime) differ from their last log entry, or that have none:
    only these need hashing."""
    listed = [ListedFile(*f) for f in files]
    versions = {path: Version(*v) for path, v in latest.items()}
    return [f for f in listed if f.uri not in versions or versions[f.uri][:2] != (f.size, f.mtime_ms)]


def unseen(inventory: Iterable, latest: Mapping[str, Version]) -> list:
    """Inventory rows (:func:`reviewlake.lake.ingest.file_inventory`) whose content hash differs
    from the last one the file log holds for their path: new or changed files (a file changed back
    to an earlier content is changed too)."""
    hashes = {path: Version(*v).content_hash for path, v in latest.items()}
    return [r for r in inventory if hashes.get(r["source_file"]) != r["content_hash"]]


def failed_file_rows(spark: SparkSession, failed: Sequence[FailedFile], batch_id: str) -> tuple[DataFrame, DataFrame]:
    """For files that could not be read: their ``bronze/files`` rows (content hash null: not
    ingested, so a later run tries them again) and one ``bronze/quarantine`` row each (offset 0,
    no bytes, the reason)."""
    rows = [(f.uri, int(f.size), int(f.mtime_ms), f.reason) for f in failed]
    frame = spark.createDataFrame(rows, "source_file string, size long, mtime long, reason string")
    log_rows = frame.select(
        "source_file",
        "size",
        F.timestamp_millis("mtime").alias("mtime"),
        F.lit(None).cast("string").alias("content_hash"),
    )
    quarantine = quarantine_rows(frame.withColumn("record_offset", F.lit(0)), batch_id, F.col("reason"), F.lit(b""))
    return log_rows, quarantine

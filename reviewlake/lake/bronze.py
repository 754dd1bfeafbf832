"""One ingest batch, from landing files to the rows bronze gains: which files to read (the file
log's verdict on the listing, :mod:`reviewlake.lake.file_log`), their records (good ones for
``bronze/reviews_raw``, the others for ``bronze/quarantine``), the batch's file-log rows, its
figures and the accounting invariant, and its publication.

The batch's records are persisted (its figures, its staged outputs and the invariant read them);
the caller releases them with :meth:`Batch.release`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from reviewlake.core import delta_io
from reviewlake.core.spark import HELD
from reviewlake.core.tally import tally
from reviewlake.core.uris import to_uri
from reviewlake.errors import InputError, InvariantError
from reviewlake.lake import file_log, ingest
from reviewlake.lake.file_log import FailedFile
from reviewlake.lake.ingest_lines import Scan
from reviewlake.lake.ingest_parse import ReadOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestRequest:
    """What to ingest: the landing ``inputs`` (files, folders, globs), and whether to re-read
    every file (``full``), the files of some batches (``redo_batches``) or those ingested at or
    after a time (``since``)."""

    inputs: Sequence[str]
    full: bool = False
    redo_batches: Sequence[str] = ()
    since: str | None = None


@dataclass
class BatchPlan:
    """The file log's verdict on the listing: files new or changed since they were logged
    (``unseen``: inventory rows), files that could not be read (``failed``), the paths the log
    knows, and the scans of the files read in pieces."""

    unseen: list = field(default_factory=list)
    inventory_schema: Any = None
    failed: list[FailedFile] = field(default_factory=list)
    known: set[str] = field(default_factory=set)
    scans: dict[str, Scan] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)  # for the run report

    def changed(self, full: bool) -> list[str]:
        """Logged files this batch ingests again (with ``full``: every file it ingests): their
        records replace the old ones. Never a failed file, whose last readable version stays."""
        paths = {r["source_file"] for r in self.unseen}
        return sorted(paths if full else self.known & paths)


def plan_batch(spark: SparkSession, files_uri: str, request: IngestRequest, options: ReadOptions) -> BatchPlan:
    """List the landing inputs and compare them with the file log at ``files_uri``: hash only the
    files whose size or mtime changed, set aside those too large to read or gone since listing."""
    try:
        listed = ingest.list_files(spark, [to_uri(i) for i in request.inputs])
    except FileNotFoundError as exc:
        raise InputError(str(exc)) from None
    logged = None if request.full or not delta_io.exists(spark, files_uri) else delta_io.read(spark, files_uri)
    entries = [] if logged is None else file_log.log_entries(logged)
    redo = set() if logged is None else redo_files(logged, request)
    latest = file_log.latest_entries(entries, exclude=redo)
    whole, in_pieces, oversized = ingest.plan_reads(
        file_log.stat_changed(listed, latest), options, ingest.read_limit(spark)
    )
    to_hash = whole + in_pieces
    scans = ingest.scan_files(spark, in_pieces, options)
    inventory = ingest.file_inventory(spark, to_hash, {uri: scan.content_hash for uri, scan in scans.items()})
    hashed = inventory.collect() if to_hash else []
    vanished = {r["source_file"] for r in hashed if r["content_hash"] is None}
    failed = [FailedFile(*f, "file_too_large") for f in oversized]
    failed += [FailedFile(*f, "file_vanished") for f in to_hash if f.uri in vanished]
    for f in failed:
        log.warning(
            "cannot read %s (%s, %d bytes): logged and quarantined, the other files go on", f.uri, f.reason, f.size
        )
    unseen = file_log.unseen([r for r in hashed if r["content_hash"] is not None], latest)
    detail = {"hashed_files": len(to_hash), "split_files": len(in_pieces), "new_files": len(unseen)}
    if logged is not None and (request.redo_batches or request.since):
        detail["redo_files"] = len(redo)
    return BatchPlan(unseen, inventory.schema, failed, {e.source_file for e in entries}, scans, detail)


def redo_files(logged: DataFrame, request: IngestRequest) -> set[str]:
    """The files the log ``logged`` has for the batches to redo, or ingested at or after ``since``."""
    if not (request.redo_batches or request.since):
        return set()
    redo = F.col("batch_id").isin(list(request.redo_batches))
    if request.since:
        redo = redo | (F.col("ingested_at") >= F.to_timestamp(F.lit(request.since)))
    return {r[0] for r in logged.where(redo).select("source_file").distinct().collect()}


@dataclass
class Batch:
    """A batch's rows: ``records`` (every record read, persisted), ``good`` (bronze rows),
    ``quarantine`` and ``file_rows`` (its file-log rows)."""

    records: DataFrame
    good: DataFrame
    quarantine: DataFrame
    file_rows: DataFrame

    def release(self) -> None:
        self.records.unpersist()


def read_batch(spark: SparkSession, plan: BatchPlan, options: ReadOptions, batch_id: str) -> Batch:
    """Read and parse the plan's files into the batch's rows (see :class:`Batch`)."""
    to_parse = [r["source_file"] for r in plan.unseen if r["size"] > 0]
    records = ingest.read_records(spark, to_parse, plan.scans, options).persist(HELD)
    good, repeated = ingest.dedupe_ids_within_batch(ingest.to_bronze(records, batch_id, options.ingest.source))
    repeated_q = ingest.quarantine_rows(repeated, batch_id, F.lit("duplicate_review_id"), F.encode("raw_text", "utf-8"))
    quarantine = ingest.to_quarantine(records, batch_id).unionByName(repeated_q)
    files = spark.createDataFrame(plan.unseen, plan.inventory_schema)
    if plan.failed:
        failed_log, failed_q = file_log.failed_file_rows(spark, plan.failed, batch_id)
        quarantine = quarantine.unionByName(failed_q)
        files = files.unionByName(failed_log)
    file_rows = files.withColumn("batch_id", F.lit(batch_id)).withColumn("ingested_at", F.current_timestamp())
    return Batch(records, good, quarantine, file_rows)


@dataclass(frozen=True)
class BatchFigures:
    """What a batch read and where it went, counted from the staged outputs."""

    per_file: dict[str, int]  # records read per file (0 for a file without any)
    bronze_rows: int
    quarantined_per_reason: dict[str, int]
    source_ids: int  # bronze rows whose review_id the source gave (not derived from file and offset)

    @property
    def records(self) -> int:
        return sum(self.per_file.values())

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_per_reason.values())


def count_batch(plan: BatchPlan, records: DataFrame, bronze: DataFrame, quarantine: DataFrame) -> BatchFigures:
    """The batch's figures in one action, and the ingest invariant: every record read is either a
    bronze row or quarantined (:class:`InvariantError` otherwise)."""
    derived = ingest.stable_id_column()
    figures = tally(
        read=records.select(F.col("source_file").alias("key")),
        bronze=bronze,
        quarantine=quarantine.select(F.col("reason").alias("key")),
        sourced=bronze.where(F.col("review_id") != derived),
    )
    per_file = {r["source_file"]: figures["read"].get(r["source_file"], 0) for r in plan.unseen}
    per_file.update({f.uri: 1 for f in plan.failed})  # an unreadable file: one quarantined entry
    out = BatchFigures(
        per_file, sum(figures["bronze"].values()), figures["quarantine"], sum(figures["sourced"].values())
    )
    if out.records != out.bronze_rows + out.quarantined:
        raise InvariantError(
            f"ingest: {out.records} records read but {out.bronze_rows} bronze + {out.quarantined} quarantined"
        )
    return out


@dataclass(frozen=True)
class BatchWrite:
    """What a batch writes: its staged ``bronze`` rows and ``quarantine``, its ``file_rows``, the
    ``paths`` of its files, the logged files it ingests again (``changed``) and its figures."""

    bronze: DataFrame
    quarantine: DataFrame
    file_rows: DataFrame
    paths: Sequence[str]
    changed: Sequence[str]
    figures: BatchFigures


def publish_batch(spark: SparkSession, t: Mapping[str, str], batch_id: str, write: BatchWrite) -> None:
    """Write the batch into bronze, the quarantine and the file log, in that order (the file log
    last: a run killed before it is redone by the next). Bronze gets an append or a MERGE
    (:func:`write_bronze`); a changed file's records replace its old ones (those it no longer has
    are deleted). The quarantine is keyed like bronze (one row per record of the file's current
    version), so a rerun after a crash before the file-log commit re-quarantines the same records,
    never twice; a batch with nothing quarantined and no changed file would commit an empty MERGE
    there, so it is skipped."""
    stale = F.col("t.source_file").isin(list(write.changed)) if write.changed else None
    write_bronze(spark, t["bronze"], batch_id, write, stale)
    if write.figures.quarantined or write.changed or not delta_io.exists(spark, t["quarantine"]):
        delta_io.merge(
            spark, write.quarantine, t["quarantine"], ["source_file", "record_offset"], delete_unmatched=stale
        )
        log.info("published %s", t["quarantine"])
    delta_io.merge(spark, write.file_rows, t["files"], ["source_file", "content_hash"])


def write_bronze(spark: SparkSession, uri: str, batch_id: str, write: BatchWrite, stale: Column | None) -> None:
    """Bronze's write. A batch of files never ingested before whose review ids are all derived from
    file and offset cannot repeat an id bronze holds: it is appended, sorted by path, so the write
    reads nothing of bronze but a check that bronze holds no row of its files yet (a literal
    ``source_file IN (...)`` filter Delta skips files on: a run killed after this append is redone
    by a MERGE). Any other batch (a changed file, ids the source gave, which may repeat an older
    file's) is a MERGE on ``review_id``. Both name the batch in their commit metadata: silver finds
    the new rows by it."""
    meta = delta_io.commit_metadata(batch_id=batch_id)
    fresh = not write.changed and write.figures.source_ids == 0
    fresh = fresh and not delta_io.holds(spark, uri, F.col("source_file").isin(list(write.paths)))
    log.info("bronze batch %s: %s", batch_id, "append (new files only)" if fresh else "merge")
    if fresh:
        delta_io.append(write.bronze.repartitionByRange("source_file", "record_offset"), uri, meta)
    else:
        delta_io.merge(spark, write.bronze, uri, ["review_id"], delete_unmatched=stale, user_metadata=meta)
    log.info("published %s", uri)


def publish_failed_only(spark: SparkSession, t: Mapping[str, str], failed: Sequence[FailedFile], batch_id: str) -> None:
    """A batch of only unreadable files: their quarantine and file-log rows (nothing for bronze)."""
    failed_log, failed_q = file_log.failed_file_rows(spark, failed, batch_id)
    delta_io.merge(spark, failed_q, t["quarantine"], ["source_file", "record_offset"])
    rows = failed_log.withColumn("batch_id", F.lit(batch_id)).withColumn("ingested_at", F.current_timestamp())
    delta_io.merge(spark, rows, t["files"], ["source_file", "content_hash"])

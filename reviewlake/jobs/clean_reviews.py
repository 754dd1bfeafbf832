"""The clean_reviews job: landing -> bronze (+quarantine, file log) -> clean -> dedupe -> segment
-> silver (+disposition ledger), each layer gated by GX before it is published.

Incremental at the file level: only files not in ``bronze/files`` (by path and content hash) are
parsed. Silver is rebuilt from the whole of bronze whenever bronze moved since silver was built
(the bronze version is recorded in silver's commit metadata), so a failed or killed run is
repaired by the next one and a rerun with nothing new changes nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.storagelevel import StorageLevel

from reviewlake.core import delta_io, tables
from reviewlake.core.config import Config, local_path, to_uri
from reviewlake.core.report import RunReport
from reviewlake.core.tally import tally
from reviewlake.errors import FilesFailedError, InputError, InvariantError
from reviewlake.jobs.publish import Stager, commit_metadata, read_commit_metadata
from reviewlake.lake import clean, dedupe, incremental, ingest
from reviewlake.lake.labels import label_column
from reviewlake.lake.minhash import default_params
from reviewlake.lake.segment import tokens_column
from reviewlake.quality import gate
from reviewlake.quality.suites import bronze as bronze_suite
from reviewlake.quality.suites import silver as silver_suite
from reviewlake.text.clean_rules import declared
from reviewlake.text.segment import SegmenterSpec

log = logging.getLogger("clean_reviews")

SILVER_COLUMNS = (
    "review_id",
    "batch_id",
    "text",
    "text_hash",
    "label",
    "rating",
    "char_len",
    "tokens",
    "token_count",
    "dup_cluster_id",
    "minhash_bands",
    "product_id",
    "user_id",
    "created_at",
)
DISPOSITION_COLUMNS = ("review_id", "batch_id", "outcome", "rule", "survivor_id", "detail")


def table_uris(cfg: Config) -> dict[str, str]:
    """The tables this job writes, by short name (bronze, quarantine, files, silver, disposition, index)."""
    return {t.key: t.uri(cfg) for t in tables.written_by("clean_reviews")}


def ingest_options(cfg: Config) -> dict:
    opts = dict(cfg["ingest"])
    opts["from_rating"] = cfg["labels.from_rating"]
    return opts


# --------------------------------------------------------------------------- ingest (stage 1)
def log_failed_files(spark: SparkSession, t: dict[str, str], failed, batch_id: str) -> None:
    """Quarantine and log files that could not be read, in a batch with nothing else to ingest."""
    failed_log, failed_q = ingest.failed_file_rows(spark, failed, batch_id)
    delta_io.merge(spark, failed_q, t["quarantine"], ["source_file", "record_offset"])
    delta_io.merge(
        spark,
        failed_log.withColumn("batch_id", F.lit(batch_id)).withColumn("ingested_at", F.current_timestamp()),
        t["files"],
        ["source_file", "content_hash"],
    )


def run_ingest(
    spark: SparkSession,
    cfg: Config,
    inputs: Sequence[str],
    report: RunReport,
    full: bool = False,
    redo_batches: Sequence[str] = (),
    since: str | None = None,
) -> int:
    """Ingest unseen landing files into bronze; returns the number of new files. Files the log
    records for ``redo_batches`` or at/after ``since`` count as unseen (their records are
    re-ingested as a new batch and replace the old ones by review_id)."""
    t = table_uris(cfg)
    uris = [to_uri(i) for i in inputs]
    with report.stage("ingest") as st:
        try:
            listed = ingest.list_files(spark, uris)
        except FileNotFoundError as exc:
            raise InputError(str(exc)) from None
        file_log = None if full or not delta_io.exists(spark, t["files"]) else delta_io.read(spark, t["files"])
        logged = [] if file_log is None else ingest.log_rows(file_log)
        known = {r[0] for r in logged}
        redo_files: set[str] = set()
        if file_log is not None and (redo_batches or since):
            redo = F.col("batch_id").isin(list(redo_batches))
            if since:
                redo = redo | (F.col("ingested_at") >= F.to_timestamp(F.lit(since)))
            redo_files = {r[0] for r in file_log.where(redo).select("source_file").distinct().collect()}
            st.detail["redo_files"] = len(redo_files)
        latest = ingest.latest_entries(logged, exclude=redo_files)
        options = ingest_options(cfg)
        whole, in_pieces, oversized = ingest.plan_reads(
            ingest.stat_changed(listed, latest), options, ingest.read_limit(spark)
        )
        to_hash = whole + in_pieces
        st.detail.update(hashed_files=len(to_hash), split_files=len(in_pieces))
        scans = ingest.scan_files(spark, in_pieces, options)
        inventory = ingest.file_inventory(spark, to_hash, {uri: scan.content_hash for uri, scan in scans.items()})
        hashed = inventory.collect() if to_hash else []
        # a file over the reader's limit, or gone since it was listed, is logged and quarantined
        # with its reason; the others are ingested, and the job then exits 6 (FilesFailedError)
        vanished = {r["source_file"] for r in hashed if r["content_hash"] is None}
        failed = [(*f, "file_too_large") for f in oversized] + [
            (*f, "file_vanished") for f in to_hash if f[0] in vanished
        ]
        for path, size, _, reason in failed:
            log.warning(
                "cannot read %s (%s, %d bytes): logged and quarantined, the other files go on", path, reason, size
            )
        unseen_rows = ingest.unseen([r for r in hashed if r["content_hash"] is not None], latest)
        unseen = spark.createDataFrame(unseen_rows, inventory.schema)
        new_files = len(unseen_rows)
        st.detail["new_files"] = new_files
        if new_files == 0 and not failed:
            log.info("no new or changed files under %s", ", ".join(inputs))
            st.rows_in = st.rows_out = 0
            return 0
        if new_files == 0:  # only unreadable files: nothing for bronze (nor its gate)
            log_failed_files(spark, t, failed, report.run_id)
            st.rows_in, st.rows_out = len(failed), 0
            report.summary["ingest"] = {
                "batch_id": report.run_id,
                "files": 0,
                "records": len(failed),
                "bronze_rows": 0,
                "quarantined": len(failed),
                "failed_files": {f[0]: f[3] for f in failed},
            }
            return 0
        to_parse = [r["source_file"] for r in unseen_rows if r["size"] > 0]
        records = ingest.read_records(spark, to_parse, scans, options).persist(StorageLevel.MEMORY_AND_DISK)
        batch_id = report.run_id
        good, repeated = ingest.dedupe_ids_within_batch(ingest.to_bronze(records, batch_id, cfg["ingest.source"]))
        repeated_q = repeated.select(
            F.lit(batch_id).alias("batch_id"),
            "source_file",
            "record_offset",
            F.encode("raw_text", "utf-8").alias("raw_record"),
            F.lit("duplicate_review_id").alias("reason"),
            F.current_timestamp().alias("detected_at"),
        )
        quarantine = ingest.to_quarantine(records, batch_id).unionByName(repeated_q)
        if failed:
            failed_log, failed_q = ingest.failed_file_rows(spark, failed, batch_id)
            quarantine = quarantine.unionByName(failed_q)
            unseen = unseen.unionByName(failed_log)

        with Stager(spark, cfg, report.run_id) as stager:
            staged_bronze = stager.stage("bronze.reviews_raw", good)
            staged_q = stager.stage("bronze.quarantine", quarantine)
            stager.audit(staged_bronze, bronze_suite.reviews_raw(cfg))

            # records read per file (files with no record, empty files, show as 0)
            read = tally(read=records.select(F.col("source_file").alias("key")))["read"]
            per_file = {r["source_file"]: read.get(r["source_file"], 0) for r in unseen_rows}
            per_file.update({f[0]: 1 for f in failed})  # an unreadable file: one quarantined entry
            n_records = sum(per_file.values())
            # bronze rows and quarantined rows per reason, from the staged outputs in one action
            figures = tally(bronze=staged_bronze.df, quarantine=staged_q.df.select(F.col("reason").alias("key")))
            n_bronze, reasons = sum(figures["bronze"].values()), figures["quarantine"]
            n_quarantine = sum(reasons.values())
            if n_records != n_bronze + n_quarantine:
                raise InvariantError(
                    f"ingest: {n_records} records read but {n_bronze} bronze + {n_quarantine} quarantined"
                )

            # a changed file's records replace its old ones: those it no longer has are deleted
            # (with --full: of every listed file)
            # (not a file that failed: its last readable version stays until one can be read)
            changed = sorted(
                {r["source_file"] for r in unseen_rows} if full else known & {r["source_file"] for r in unseen_rows}
            )
            st.detail["changed_files"] = len(changed)
            delta_io.merge(
                spark,
                staged_bronze.df,
                t["bronze"],
                ["review_id"],
                delete_unmatched=F.col("t.source_file").isin(changed) if changed else None,
            )
            log.info("published %s", t["bronze"])
            # keyed like bronze (one row per record of the file's current version): a rerun after a
            # crash before the file log commit re-quarantines the same records, never twice. A batch
            # with nothing quarantined and no changed file would commit an empty MERGE: skipped.
            if n_quarantine or changed or not delta_io.exists(spark, t["quarantine"]):
                delta_io.merge(
                    spark,
                    staged_q.df,
                    t["quarantine"],
                    ["source_file", "record_offset"],
                    delete_unmatched=F.col("t.source_file").isin(changed) if changed else None,
                )
                log.info("published %s", t["quarantine"])
            file_rows = unseen.withColumn("batch_id", F.lit(batch_id)).withColumn("ingested_at", F.current_timestamp())
            delta_io.merge(spark, file_rows, t["files"], ["source_file", "content_hash"])
        records.unpersist()
        st.rows_in, st.rows_out = n_records, n_bronze
        st.detail.update(quarantined=n_quarantine)
        report.summary["ingest"] = {
            "batch_id": batch_id,
            "files": new_files,
            "records_per_file": per_file,
            "records": n_records,
            "bronze_rows": n_bronze,
            "quarantined": n_quarantine,
            "quarantined_per_reason": reasons,
            "failed_files": {f[0]: f[3] for f in failed},
        }
        return new_files


# ------------------------------------------------------------------ clean/dedupe/segment (2-4)
def clean_rows(rows: DataFrame, cfg: Config, report: RunReport) -> DataFrame:
    """Clean ``rows`` (bronze rows) and derive labels; persisted (it feeds counts, the ledger and
    dedupe). Per-rule counts go to ``report``."""
    rules = clean.build_rules(cfg)
    with report.stage("clean") as st:
        cleaned = (
            clean.apply_rules(rows, rules)
            .withColumn("label", label_column(F.col("label_raw"), F.col("rating"), cfg["labels.from_rating"]))
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        total, counts = clean.rule_counts(cleaned, rules)
        removed = sum(c.get("removed", 0) for c in counts.values())
        st.rows_in, st.rows_out, st.detail = total, total - removed, {"rules": counts}
        report.summary["clean"] = {"rows_in": total, "rows_out": total - removed, "rules": counts}
    return cleaned


def lsh_params(cfg: Config):
    return default_params(
        cfg["dedupe.threshold"],
        cfg["dedupe.ngram"],
        cfg["dedupe.max_perm"],
        cfg["dedupe.seed"],
        cfg["dedupe.min_recall"],
    )


def cluster(population: DataFrame, cfg: Config) -> DataFrame:
    """Exact + near clusters, survivors and label resolution over ``population`` (see
    :mod:`reviewlake.lake.dedupe`); adds ``source_label`` (the row's label before resolution) and
    ``dropped`` (the row's cluster is removed by the ``drop`` label policy)."""
    policy = cfg["dedupe.label_conflict_policy"]
    # persisted: label resolution reads the clusters three times (counts, survivors, rows)
    clustered = dedupe.assign_clusters(
        population.withColumn("source_label", F.col("label")),
        lsh_params(cfg),
        cfg["dedupe.threshold"],
        cfg["dedupe.near_min_chars"],
        near=cfg["dedupe.near"],
        local_max_edges=cfg["dedupe.local_components_max_edges"],
    ).persist(StorageLevel.MEMORY_AND_DISK)
    return dedupe.resolve_labels(clustered, policy).withColumn(
        "dropped", F.col("label_conflict") & F.lit(policy == "drop")
    )


def ledger_rows(clustered: DataFrame, filtered: DataFrame) -> DataFrame:
    """One ``silver.disposition`` row per clustered or filtered review."""
    return (
        filtered.select(
            "review_id",
            "batch_id",
            F.lit("filtered").alias("outcome"),
            F.col("filtered_by").alias("rule"),
            F.lit(None).cast("string").alias("survivor_id"),
            F.substring("text", 1, 80).alias("detail"),
        )
        .unionByName(
            clustered.select(
                "review_id",
                "batch_id",
                F.when(F.col("dropped"), "filtered").otherwise(F.col("outcome")).alias("outcome"),
                F.when(F.col("dropped"), "label_conflict")
                .when(F.col("outcome") == "exact_duplicate", "exact")
                .when(F.col("outcome") == "near_duplicate", "near")
                .alias("rule"),
                F.when(~F.col("dropped") & (F.col("outcome") != "kept"), F.col("survivor_id")).alias("survivor_id"),
                F.when(F.col("dropped"), F.col("dup_cluster_id")).alias("detail"),
            )
        )
        .select(*DISPOSITION_COLUMNS)
    )


def silver_rows(clustered: DataFrame, cfg: Config) -> DataFrame:
    """The kept reviews, segmented, as ``silver.reviews`` rows."""
    spec = SegmenterSpec.from_config(cfg)
    return (
        clustered.where((F.col("outcome") == "kept") & ~F.col("dropped"))
        .withColumn("tokens", tokens_column(F.col("text"), spec))
        .withColumn("token_count", F.size("tokens"))
        .withColumn("char_len", F.length("text"))
        .select(*SILVER_COLUMNS)
    )


def with_deletes(upserts: DataFrame, ids: DataFrame) -> DataFrame:
    """A change set for :func:`delta_io.apply_changes`: ``upserts`` plus a delete for every id
    of ``ids`` that is not upserted."""
    deletes = ids.join(upserts.select("review_id"), "review_id", "left_anti")
    for field in upserts.schema.fields:
        if field.name != "review_id":
            deletes = deletes.withColumn(field.name, F.lit(None).cast(field.dataType))
    return upserts.withColumn(delta_io.DELETE_FLAG, F.lit(False)).unionByName(
        deletes.withColumn(delta_io.DELETE_FLAG, F.lit(True))
    )


def prospective(published: DataFrame | None, changes: DataFrame, columns: Sequence[str]) -> DataFrame:
    """The table as it will be once ``changes`` are applied (what the run's invariant counts)."""
    upserts = changes.where(~F.col(delta_io.DELETE_FLAG)).select(*columns)
    if published is None:
        return upserts
    return untouched(published, changes).select(*columns).unionByName(upserts)


def untouched(published: DataFrame, changes: DataFrame) -> DataFrame:
    """The published rows ``changes`` neither upserts nor deletes."""
    return published.join(changes.select("review_id"), "review_id", "left_anti")


def silver_audit_view(published: DataFrame | None, changes: DataFrame) -> DataFrame:
    """What silver's gate validates: the rows ``changes`` upserts, each with ``clashes_with``, the
    ``review_id`` of a published row that the change set leaves in place and whose ``text_hash``
    it repeats (null where none; a row repeated by several published rows appears once per row)."""
    upserts = changes.where(~F.col(delta_io.DELETE_FLAG)).select(*SILVER_COLUMNS)
    if published is None:
        return upserts.withColumn("clashes_with", F.lit(None).cast("string"))
    kept = untouched(published, changes).select("text_hash", F.col("review_id").alias("clashes_with"))
    return upserts.join(kept, "text_hash", "left")


def plan_silver(
    bronze: DataFrame,
    published: dict[str, DataFrame | None],
    cfg: Config,
    report: RunReport,
    materialize: Callable[[str, DataFrame], DataFrame],
    may_have_gone: bool = True,
) -> dict[str, DataFrame]:
    """The change sets of silver, the ledger and the dedupe index that bring them up to date with
    ``bronze`` (``published``: their current content, None where absent or rebuilt).
    ``may_have_gone=False`` says bronze lost no row since they were built (no search for
    published reviews bronze no longer holds).

    ``materialize(name, df)`` computes ``df`` once and returns it held, its lineage cut (the
    clustering is used by three change sets, and its query plan would otherwise grow too large
    for the analyser)."""
    fresh = incremental.new_rows(bronze, published["disposition"])
    gone = (
        incremental.gone_ids(bronze, published["disposition"], published["index"], published["silver"])
        if may_have_gone
        else bronze.sparkSession.createDataFrame([], "review_id string")
    )
    touched = fresh.select("review_id").unionByName(gone).distinct()
    cleaned = clean_rows(fresh, cfg, report)
    candidates = dedupe.with_text_hash(cleaned.where(F.col("filtered_by").isNull()))
    filtered = cleaned.where(F.col("filtered_by").isNotNull())
    with report.stage("dedupe") as st:
        params = lsh_params(cfg)
        report.summary["dedupe_params"] = {
            "bands": params.bands,
            "rows": params.rows,
            "ngram": params.ngram,
            "p_candidate_at_threshold": round(params.p_candidate(cfg["dedupe.threshold"]), 4),
        }
        index = published["index"]
        if index is None:
            pop = candidates.select(*incremental.POPULATION_COLUMNS)
        else:
            affected = incremental.affected_clusters(
                index, touched, candidates, params, cfg["dedupe.near_min_chars"], near=cfg["dedupe.near"]
            )
            # persisted: clustering reads the population several times, and each read would
            # redo the band lookup against the whole index (measured: dedupe 150-190 s instead
            # of ~20 s on a 400-row increment)
            pop = incremental.population(index, touched, affected, candidates).persist(StorageLevel.MEMORY_AND_DISK)
        clustered = materialize("silver.clustered", cluster(pop, cfg))
        figures = clustered.agg(
            F.count("*").alias("population"),
            F.countDistinct(F.when(F.col("label_conflict"), F.col("dup_cluster_id"))).alias("clusters"),
            F.sum(F.col("label_conflict").cast("long")).alias("rows"),
            F.sum(((F.col("outcome") == "kept") & ~F.col("dropped")).cast("long")).alias("kept"),
        ).first()
        report.summary["label_conflicts"] = {
            "policy": cfg["dedupe.label_conflict_policy"],
            "clusters": int(figures["clusters"]),
            "rows": int(figures["rows"] or 0),
        }
        st.rows_in, st.rows_out = int(figures["population"]), int(figures["kept"] or 0)
        st.detail = {
            "label_conflicts": report.summary["label_conflicts"],
            "lsh": report.summary["dedupe_params"],
            "population": int(figures["population"]),
        }
    ids = touched.unionByName(clustered.select("review_id")).distinct()
    return {
        "silver": with_deletes(silver_rows(clustered, cfg), ids),
        "disposition": with_deletes(ledger_rows(clustered, filtered), ids),
        "index": with_deletes(clustered.select(*incremental.INDEX_COLUMNS), ids),
    }


SILVER_TABLES = ("silver", "index", "disposition")  # publish order: the ledger commits last
TABLE_COLUMNS = {"silver": SILVER_COLUMNS, "index": incremental.INDEX_COLUMNS, "disposition": DISPOSITION_COLUMNS}


def run_silver(spark: SparkSession, cfg: Config, report: RunReport, full: bool = False) -> bool:
    """Bring silver, the ledger and the dedupe index up to date with bronze; returns whether
    anything was published.

    Incremental (see :mod:`reviewlake.lake.incremental`); ``full`` rebuilds all three from bronze. The
    ledger is published last with the bronze version it reflects, so a run killed between the
    three commits is redone by the next run (each change set is an idempotent MERGE).
    """
    t = table_uris(cfg)
    if not delta_io.exists(spark, t["bronze"]):
        raise InputError("bronze/reviews_raw does not exist: nothing was ever ingested")
    bronze_version, _ = delta_io.last_data_commit(spark, t["bronze"])
    built_from = read_commit_metadata(spark, t["disposition"]).get("bronze_version")
    if built_from == bronze_version and not full:
        log.info("silver is up to date with bronze version %s: nothing to do", bronze_version)
        return False
    bronze = delta_io.read(spark, t["bronze"], version=bronze_version)
    rebuild = full or not all(delta_io.exists(spark, t[name]) for name in SILVER_TABLES)
    published = {name: None if rebuild else delta_io.read(spark, t[name]) for name in SILVER_TABLES}
    with Stager(spark, cfg, report.run_id) as stager:
        # rows can only be gone if a bronze commit since the last build removed some (a changed file)
        may_have_gone = not rebuild and (
            built_from is None or delta_io.removed_rows_since(spark, t["bronze"], int(built_from))
        )
        changes = plan_silver(
            bronze, published, cfg, report, lambda name, df: stager.stage(name, df).df, may_have_gone=may_have_gone
        )

        with report.stage("segment+stage") as st:
            staged = {name: stager.stage(f"silver.{name}_changes", changes[name]) for name in SILVER_TABLES}
            after = {name: prospective(published[name], staged[name].df, TABLE_COLUMNS[name]) for name in SILVER_TABLES}
            ledger = staged["disposition"].df
            figures = tally(
                upserts=ledger.where(~F.col(delta_io.DELETE_FLAG)).select(F.col("outcome").alias("key")),
                deletes=ledger.where(F.col(delta_io.DELETE_FLAG)),
            )
            counts, deletes = figures["upserts"], sum(figures["deletes"].values())
            st.rows_in = st.rows_out = counts.get("kept", 0)
            st.detail = {"ledger_upserts": counts, "ledger_deletes": deletes}
        if not counts and not deletes:
            log.info("bronze version %s brings no change to silver", bronze_version)
            return False
        # the invariant, from one action over bronze and the two tables as they will be
        figures = tally(
            bronze=bronze, outcomes=after["disposition"].select(F.col("outcome").alias("key")), silver=after["silver"]
        )
        n_bronze, outcomes, n_silver = (
            sum(figures["bronze"].values()),
            figures["outcomes"],
            sum(figures["silver"].values()),
        )
        if sum(outcomes.values()) != n_bronze:
            raise InvariantError(f"{n_bronze} bronze reviews but {sum(outcomes.values())} disposition rows")
        if outcomes.get("kept", 0) != n_silver:
            raise InvariantError(f"{outcomes.get('kept', 0)} kept dispositions but {n_silver} silver rows")

        with report.stage("quality") as st:
            # the change sets' upserts, not the tables as they will be (see quality/suites/silver.py)
            stager.audit(
                staged["silver"], silver_suite.reviews(cfg), view=lambda df: silver_audit_view(published["silver"], df)
            )
            stager.audit(
                staged["disposition"],
                silver_suite.disposition(cfg),
                view=lambda df: df.where(~F.col(delta_io.DELETE_FLAG)).select(*DISPOSITION_COLUMNS),
            )
            stager.audit_rows("silver.reviews", n_silver, silver_suite.min_rows(cfg))
            st.detail = {"suites": [g.suite for g in stager.gates]}

        # Frames cached while planning (cleaned rows, MinHash inputs) read the published tables: a
        # MERGE into those would re-cache (recompute) them, for nothing. The job owns its session.
        spark.catalog.clearCache()
        with report.stage("publish"):
            meta = commit_metadata(bronze_version=bronze_version, run_id=report.run_id)
            for name in SILVER_TABLES:
                source = staged[name].df
                if published[name] is None:
                    delta_io.overwrite(
                        source.where(~F.col(delta_io.DELETE_FLAG)).select(*TABLE_COLUMNS[name]),
                        t[name],
                        user_metadata=meta,
                    )
                else:
                    delta_io.apply_changes(
                        spark, source, t[name], ["review_id"], TABLE_COLUMNS[name], user_metadata=meta
                    )
                log.info("published %s", t[name])
    report.summary["silver"] = {
        "bronze_version": bronze_version,
        "bronze_rows": n_bronze,
        "changes": counts,
        "deleted": deletes,
        "outcomes": outcomes,
        "silver_rows": n_silver,
        "data_docs": [g.docs_page for g in stager.gates],
    }
    return True


def report_unchanged(cfg: Config, last: dict) -> RunReport:
    """The report of a run that found nothing changed since run ``last["run_id"]`` (see
    reviewlake/core/run_state.py): no file new, no table written, so nothing to do."""
    report = RunReport("clean_reviews")
    with report.stage("ingest") as st:
        st.rows_in = st.rows_out = 0
        st.detail.update(new_files=0, skipped="landing, tables and config unchanged", since_run=last.get("run_id"))
    log.info(
        "nothing changed since run %s (landing listing, table versions %s, config): nothing to do",
        last.get("run_id"),
        last.get("tables"),
    )
    report.write(local_path(to_uri(cfg["reports_dir"])))
    return report


def run(
    spark: SparkSession,
    cfg: Config,
    inputs: Sequence[str],
    full: bool = False,
    redo_batches: Sequence[str] = (),
    since: str | None = None,
) -> RunReport:
    """The whole job; returns its report (also written under ``reports_dir``)."""
    report = RunReport("clean_reviews")
    report.watch(spark, table_uris(cfg))
    if cfg["quality.enabled"]:
        gate.warm_up()
    try:
        run_ingest(spark, cfg, inputs, report, full=full, redo_batches=redo_batches, since=since)
        run_silver(spark, cfg, report, full=full)
    finally:
        gate.wait_for_warm_up()
        report.write(local_path(to_uri(cfg["reports_dir"])))
    return report


def check_failed_files(report: RunReport) -> None:
    """Raise :class:`FilesFailedError` (exit 6) naming how many input files of the run could not
    be read, once everything else is published."""
    ingest_summary = report.summary.get("ingest") or {}
    failed = ingest_summary.get("failed_files") or {}
    if failed:
        reasons = Counter(failed.values())
        total = len(failed) + int(ingest_summary.get("files", 0))
        raise FilesFailedError(
            f"{len(failed)} of {total} new files could not be read ("
            + ", ".join(f"{reason} {n}" for reason, n in sorted(reasons.items()))
            + f"; logged in bronze/files, quarantined in bronze/quarantine, e.g. {sorted(failed)[0]}); "
            "the other files were ingested and published"
        )


def main(argv: list[str] | None = None) -> int:
    from reviewlake.core import cli
    from reviewlake.core.run_state import RunState
    from reviewlake.core.spark import get_spark

    p = cli.parser("Ingest landing files and build silver.reviews / silver.disposition.")
    p.add_argument(
        "--full",
        action="store_true",
        help="re-ingest every input file (ignoring the file log) and rebuild silver from all of bronze",
    )
    p.add_argument(
        "--batch",
        action="append",
        default=[],
        metavar="BATCH_ID",
        help="redo a batch: re-ingest the input files that batch ingested (repeatable)",
    )
    p.add_argument(
        "--since",
        metavar="TIMESTAMP",
        help="backfill: re-ingest the input files ingested at or after this time (e.g. 2026-11-01)",
    )

    def job(args, cfg):
        inputs = args.input or [s.strip() for s in cfg["ingest.input"].split(",")]
        state = RunState(cfg, "clean_reviews", inputs, table_uris(cfg))
        if not (args.full or args.batch or args.since):
            last = state.unchanged()
            if last is not None:
                report_unchanged(cfg, last)
                return
        report = run(get_spark(cfg), cfg, inputs, full=args.full, redo_batches=args.batch, since=args.since)
        check_failed_files(report)  # not recorded as done: the next run tries those files again
        state.record(report.run_id)

    return cli.run("clean_reviews", job, p, argv, check=lambda cfg: declared(cfg["clean.rules"]))


if __name__ == "__main__":
    import sys

    sys.exit(main())

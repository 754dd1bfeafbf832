"""The clean_reviews job: landing -> bronze (+quarantine, file log) -> clean -> dedupe -> segment
-> silver (+disposition ledger), each layer gated by GX before it is published.

Incremental at the file level: only files not in ``bronze/files`` (by path and content hash) are
parsed. Silver is rebuilt from the whole of bronze whenever bronze moved since silver was built
(the bronze version is recorded in silver's commit metadata), so a failed or killed run is
repaired by the next one and a rerun with nothing new changes nothing.
"""
from __future__ import annotations

import logging
from typing import Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.storagelevel import StorageLevel

from pipelines import clean, dedupe, ingest, segment
from pipelines.core import delta_io
from pipelines.core.cli import InputError, InvariantError
from pipelines.core.config import Config, local_path, to_uri
from pipelines.core.publish import Stager, commit_metadata, read_commit_metadata
from pipelines.core.report import RunReport
from pipelines.labels import label_column
from pipelines.minhash import default_params
from quality.suites import bronze as bronze_suite
from quality.suites import silver as silver_suite

log = logging.getLogger("clean_reviews")

SILVER_COLUMNS = (
    "review_id", "batch_id", "text", "text_hash", "label", "rating", "char_len", "tokens",
    "token_count", "dup_cluster_id", "minhash_bands", "product_id", "user_id", "created_at",
)
DISPOSITION_COLUMNS = ("review_id", "batch_id", "outcome", "rule", "survivor_id", "detail")


def tables(cfg: Config) -> dict[str, str]:
    return {
        "bronze": delta_io.table_uri(cfg, "bronze", "reviews_raw"),
        "quarantine": delta_io.table_uri(cfg, "bronze", "quarantine"),
        "files": delta_io.table_uri(cfg, "bronze", "files"),
        "silver": delta_io.table_uri(cfg, "silver", "reviews"),
        "disposition": delta_io.table_uri(cfg, "silver", "disposition"),
    }


def ingest_options(cfg: Config) -> dict:
    opts = dict(cfg["ingest"])
    opts["from_rating"] = cfg["labels.from_rating"]
    return opts


# --------------------------------------------------------------------------- ingest (stage 1)
def run_ingest(spark: SparkSession, cfg: Config, inputs: Sequence[str], report: RunReport,
               full: bool = False) -> int:
    """Ingest unseen landing files into bronze; returns the number of new files."""
    t = tables(cfg)
    uris = [to_uri(i) for i in inputs]
    with report.stage("ingest") as st:
        try:
            listed = ingest.list_files(spark, uris)
        except FileNotFoundError as exc:
            raise InputError(str(exc)) from None
        inventory = ingest.file_inventory(spark, listed)
        file_log = None if full or not delta_io.exists(spark, t["files"]) else delta_io.read(spark, t["files"])
        unseen = ingest.unseen_files(inventory, file_log).persist()
        unseen_rows = unseen.collect()
        new_files = len(unseen_rows)
        st.detail["new_files"] = new_files
        if new_files == 0:
            log.info("no new or changed files under %s", ", ".join(inputs))
            unseen.unpersist()
            st.rows_in = st.rows_out = 0
            return 0
        to_parse = [r["source_file"] for r in unseen_rows if r["size"] > 0]
        files = ingest.read_landing(spark, to_parse) if to_parse else None
        records = (ingest.parse_records(files, ingest_options(cfg)) if files is not None
                   else spark.createDataFrame([], ingest.RECORD_SCHEMA)).persist(StorageLevel.MEMORY_AND_DISK)
        batch_id = report.run_id
        good, repeated = ingest.dedupe_ids_within_batch(
            ingest.to_bronze(records, batch_id, str(cfg.get("ingest.source", "landing")))
        )
        repeated_q = repeated.select(
            F.lit(batch_id).alias("batch_id"), "source_file", "record_offset",
            F.encode("raw_text", "utf-8").alias("raw_record"),
            F.lit("duplicate_review_id").alias("reason"), F.current_timestamp().alias("detected_at"),
        )
        quarantine = ingest.to_quarantine(records, batch_id).unionByName(repeated_q)

        stager = Stager(spark, cfg, report.run_id)
        staged_bronze = stager.stage("bronze.reviews_raw", good)
        staged_q = stager.stage("bronze.quarantine", quarantine)
        stager.audit(staged_bronze, bronze_suite.reviews_raw(cfg))

        per_file = {r["source_file"]: r["n"] for r in unseen.select("source_file").join(
            records.groupBy("source_file").agg(F.count("*").alias("n")), "source_file", "left"
        ).fillna(0, ["n"]).collect()}  # files with no record (empty files) show as 0
        n_records = sum(per_file.values())
        n_bronze, n_quarantine = staged_bronze.df.count(), staged_q.df.count()
        reasons = {r["reason"]: r["n"] for r in staged_q.df.groupBy("reason").agg(F.count("*").alias("n")).collect()}
        if n_records != n_bronze + n_quarantine:
            raise InvariantError(f"ingest: {n_records} records read but {n_bronze} bronze + {n_quarantine} quarantined")

        delta_io.merge(spark, staged_bronze.df, t["bronze"], ["review_id"])
        delta_io.merge(spark, staged_q.df, t["quarantine"], ["source_file", "record_offset", "batch_id"])
        file_rows = unseen.withColumn("batch_id", F.lit(batch_id)).withColumn("ingested_at", F.current_timestamp())
        delta_io.merge(spark, file_rows, t["files"], ["source_file", "content_hash"])
        stager.discard()
        records.unpersist()
        unseen.unpersist()
        st.rows_in, st.rows_out = n_records, n_bronze
        st.detail.update(quarantined=n_quarantine)
        report.summary["ingest"] = {
            "batch_id": batch_id, "files": new_files, "records_per_file": per_file,
            "records": n_records, "bronze_rows": n_bronze, "quarantined": n_quarantine,
            "quarantined_per_reason": reasons,
        }
        return new_files


# ------------------------------------------------------------------ clean/dedupe/segment (2-4)
def build_silver(bronze: DataFrame, cfg: Config, report: RunReport) -> tuple[DataFrame, DataFrame]:
    """Pure transformation of the whole of bronze into (silver rows, disposition rows).

    Records per-rule counts in ``report``; the cleaned frame is persisted because it feeds the
    counts, the ledger and the dedupe step.
    """
    rules = clean.build_rules(cfg)
    with report.stage("clean") as st:
        cleaned = clean.apply_rules(bronze, rules).withColumn(
            "label", label_column(F.col("label_raw"), F.col("rating"), cfg["labels.from_rating"])
        ).persist(StorageLevel.MEMORY_AND_DISK)
        total, counts = clean.rule_counts(cleaned, rules)
        removed = sum(c.get("removed", 0) for c in counts.values())
        st.rows_in, st.rows_out, st.detail = total, total - removed, {"rules": counts}
        report.summary["clean"] = {"rows_in": total, "rows_out": total - removed, "rules": counts}

    filtered = cleaned.where(F.col("filtered_by").isNotNull()).select(
        "review_id", "batch_id", F.lit("filtered").alias("outcome"), F.col("filtered_by").alias("rule"),
        F.lit(None).cast("string").alias("survivor_id"), F.substring("text", 1, 80).alias("detail"),
    )
    with report.stage("dedupe") as st:
        params = default_params(float(cfg["dedupe.threshold"]), int(cfg["dedupe.ngram"]), int(cfg["dedupe.max_perm"]),
                                int(cfg["dedupe.seed"]), float(cfg["dedupe.min_recall"]))
        report.summary["dedupe_params"] = {"bands": params.bands, "rows": params.rows, "ngram": params.ngram,
                                           "p_candidate_at_threshold": round(params.p_candidate(float(cfg["dedupe.threshold"])), 4)}
        candidates = dedupe.with_text_hash(cleaned.where(F.col("filtered_by").isNull()))
        clustered = dedupe.resolve_labels(
            dedupe.assign_clusters(candidates, params, float(cfg["dedupe.threshold"]),
                                   int(cfg["dedupe.near_min_chars"]), near=bool(cfg["dedupe.near"])),
            str(cfg["dedupe.label_conflict_policy"]),
        ).persist(StorageLevel.MEMORY_AND_DISK)
        dropped = (F.col("label_conflict") & F.lit(cfg["dedupe.label_conflict_policy"] == "drop"))
        conflict_drops = clustered.where(dropped).select(
            "review_id", "batch_id", F.lit("filtered").alias("outcome"), F.lit("label_conflict").alias("rule"),
            F.lit(None).cast("string").alias("survivor_id"), F.col("dup_cluster_id").alias("detail"),
        )
        remaining = clustered.where(~dropped)
        duplicates = remaining.where(F.col("outcome") != "kept").select(
            "review_id", "batch_id", "outcome",
            F.when(F.col("outcome") == "exact_duplicate", "exact").otherwise("near").alias("rule"),
            "survivor_id", F.lit(None).cast("string").alias("detail"),
        )
        conflicts = clustered.agg(  # one job: it also materialises the persisted clustering
            F.countDistinct(F.when(F.col("label_conflict"), F.col("dup_cluster_id"))).alias("clusters"),
            F.sum(F.col("label_conflict").cast("long")).alias("rows"),
            F.sum(((F.col("outcome") == "kept") & ~dropped).cast("long")).alias("kept"),
        ).first()
        report.summary["label_conflicts"] = {"policy": cfg["dedupe.label_conflict_policy"],
                                             "clusters": int(conflicts["clusters"]), "rows": int(conflicts["rows"] or 0)}
        st.rows_in, st.rows_out = total - removed, int(conflicts["kept"] or 0)
        st.detail = {"label_conflicts": report.summary["label_conflicts"], "lsh": report.summary["dedupe_params"]}
    spec = segment.SegmenterSpec.from_config(cfg)
    kept = (
        remaining.where(F.col("outcome") == "kept")
        .withColumn("tokens", segment.tokens_column(F.col("text"), spec))
        .withColumn("token_count", F.size("tokens"))
        .withColumn("char_len", F.length("text"))
        .select(*SILVER_COLUMNS)
    )
    kept_ledger = kept.select(
        "review_id", "batch_id", F.lit("kept").alias("outcome"), F.lit(None).cast("string").alias("rule"),
        F.lit(None).cast("string").alias("survivor_id"), F.lit(None).cast("string").alias("detail"),
    )
    disposition = filtered.unionByName(conflict_drops).unionByName(duplicates).unionByName(kept_ledger) \
        .select(*DISPOSITION_COLUMNS)
    return kept, disposition


def run_silver(spark: SparkSession, cfg: Config, report: RunReport) -> bool:
    """Rebuild silver from bronze if bronze moved since silver was built; returns whether it did."""
    t = tables(cfg)
    if not delta_io.exists(spark, t["bronze"]):
        raise InputError("bronze/reviews_raw does not exist: nothing was ever ingested")
    bronze_version = delta_io.version(spark, t["bronze"])
    built_from = read_commit_metadata(spark, t["silver"]).get("bronze_version")
    if built_from == bronze_version and delta_io.exists(spark, t["disposition"]):
        log.info("silver is up to date with bronze version %s: nothing to do", bronze_version)
        return False
    bronze = delta_io.read(spark, t["bronze"], version=bronze_version)
    silver, disposition = build_silver(bronze, cfg, report)

    stager = Stager(spark, cfg, report.run_id)
    with report.stage("segment+stage") as st:
        staged_disp = stager.stage("silver.disposition", disposition)
        staged_silver = stager.stage("silver.reviews", silver)
        outcomes = {r["outcome"]: r["n"] for r in staged_disp.df.groupBy("outcome").agg(F.count("*").alias("n")).collect()}
        n_silver = staged_silver.df.count()
        st.rows_in, st.rows_out = n_silver, n_silver
        st.detail = {"outcomes": outcomes}
    with report.stage("quality") as st:
        stager.audit(staged_silver, silver_suite.reviews(cfg))
        stager.audit(staged_disp, silver_suite.disposition(cfg))
        st.detail = {"suites": [g.suite for g in stager.gates]}

    n_bronze = bronze.count()
    if sum(outcomes.values()) != n_bronze:
        raise InvariantError(f"{n_bronze} bronze reviews but {sum(outcomes.values())} disposition rows")
    if outcomes.get("kept", 0) != n_silver:
        raise InvariantError(f"{outcomes.get('kept', 0)} kept dispositions but {n_silver} silver rows")

    with report.stage("publish"):
        meta = commit_metadata(bronze_version=bronze_version, run_id=report.run_id)
        for staged, uri in ((staged_disp, t["disposition"]), (staged_silver, t["silver"])):
            delta_io.overwrite(staged.df, uri, user_metadata=meta)
        stager.discard()
    report.summary["silver"] = {
        "bronze_version": bronze_version, "bronze_rows": n_bronze, "outcomes": outcomes, "silver_rows": n_silver,
        "data_docs": [g.docs_page for g in stager.gates],
    }
    return True


def run(spark: SparkSession, cfg: Config, inputs: Sequence[str], full: bool = False) -> RunReport:
    """The whole job; returns its report (also written under ``reports_dir``)."""
    report = RunReport("clean_reviews")
    try:
        run_ingest(spark, cfg, inputs, report, full=full)
        run_silver(spark, cfg, report)
    finally:
        report.write(local_path(to_uri(cfg["reports_dir"])))
    return report

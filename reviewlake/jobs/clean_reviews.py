"""The clean_reviews job: landing files -> bronze (+ quarantine, file log) -> clean -> exact and
near dedupe -> segment -> silver (+ the disposition ledger, the dedupe index), each layer gated by
GX before it is published.

Incremental: only files the file log has not seen (by path and content hash) are parsed
(:mod:`reviewlake.lake.bronze`), and silver takes only the change that bronze's new version brings
(:mod:`reviewlake.lake.silver`; the bronze version is recorded in the ledger's commit metadata), so
a failed or killed run is repaired by the next one and a rerun with nothing new changes nothing.
A run that finds the landing listing, its tables and its settings as the last successful run left
them ends before Spark starts (:mod:`reviewlake.core.run_state`).
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter

from pyspark.sql import functions as F

from reviewlake.core import delta_io, tables
from reviewlake.core.job import Job, RunContext
from reviewlake.core.report import RunReport, StageResult
from reviewlake.core.run_state import RunState
from reviewlake.core.settings import Settings
from reviewlake.core.spark import shuffle_partitions_restored
from reviewlake.errors import FilesFailedError, InputError
from reviewlake.lake import bronze, silver
from reviewlake.lake.bronze import BatchPlan, IngestRequest
from reviewlake.lake.ingest_parse import ReadOptions
from reviewlake.quality import gate
from reviewlake.quality.stager import Staged, Stager
from reviewlake.quality.suites import bronze as bronze_suite
from reviewlake.quality.suites import silver as silver_suite
from reviewlake.text.clean_rules import declared

log = logging.getLogger("clean_reviews")


def table_uris(cfg: Settings) -> dict[str, str]:
    """The tables this job writes, by short name (bronze, quarantine, files, silver, disposition, index)."""
    return {t.key: t.uri(cfg) for t in tables.written_by("clean_reviews")}


def run(ctx: RunContext, request: IngestRequest) -> None:
    """Ingest the landing files into bronze, then bring silver up to date with bronze."""
    ctx.watch(table_uris(ctx.cfg))
    gate.warm_up_for(ctx)
    ingest_landing(ctx, request)
    build_silver(ctx, full=request.full)


# --------------------------------------------------------------------------- landing -> bronze
def ingest_landing(ctx: RunContext, request: IngestRequest) -> None:
    """Plan the batch (which files are new) -> read it -> stage -> audit -> count -> publish."""
    t, options = table_uris(ctx.cfg), ReadOptions.of(ctx.cfg)
    with ctx.step("ingest") as st:
        plan = bronze.plan_batch(ctx.spark, t["files"], request, options)
        st.detail.update(plan.detail)
        if not plan.unseen:
            ingest_nothing_new(ctx, t, plan, request, st)
            return
        batch = bronze.read_batch(ctx.spark, plan, options, ctx.run_id)
        with Stager(ctx) as stager:
            staged_bronze = stager.stage("bronze.reviews_raw", batch.good)
            staged_q = stager.stage("bronze.quarantine", batch.quarantine)
            figures = bronze.count_batch(plan, batch.records, staged_bronze.df, staged_q.df)
            stager.audit(staged_bronze, bronze_suite.reviews_raw(ctx.cfg), rows=figures.bronze_rows)
            changed = plan.changed(request.full)
            st.detail["changed_files"] = len(changed)
            paths = [r["source_file"] for r in plan.unseen]
            write = bronze.BatchWrite(staged_bronze.df, staged_q.df, batch.file_rows, paths, changed, figures)
            bronze.publish_batch(ctx.spark, t, ctx.run_id, write)
        batch.release()
        st.rows_in, st.rows_out = figures.records, figures.bronze_rows
        st.detail.update(quarantined=figures.quarantined)
    ctx.report.summary["ingest"] = {
        "batch_id": ctx.run_id,
        "files": len(plan.unseen),
        "records_per_file": figures.per_file,
        "records": figures.records,
        "bronze_rows": figures.bronze_rows,
        "quarantined": figures.quarantined,
        "quarantined_per_reason": figures.quarantined_per_reason,
        "failed_files": {f.uri: f.reason for f in plan.failed},
    }


def ingest_nothing_new(ctx: RunContext, t: dict, plan: BatchPlan, request: IngestRequest, st: StageResult) -> None:
    """No new or changed file: log the unreadable ones, if any (nothing for bronze nor its gate)."""
    if not plan.failed:
        log.info("no new or changed files under %s", ", ".join(request.inputs))
        st.rows_in = st.rows_out = 0
        return
    bronze.publish_failed_only(ctx.spark, t, plan.failed, ctx.run_id)
    st.rows_in, st.rows_out = len(plan.failed), 0
    ctx.report.summary["ingest"] = {
        "batch_id": ctx.run_id,
        "files": 0,
        "records": len(plan.failed),
        "bronze_rows": 0,
        "quarantined": len(plan.failed),
        "failed_files": {f.uri: f.reason for f in plan.failed},
    }


# --------------------------------------------------------------------------- bronze -> silver
def build_silver(ctx: RunContext, full: bool = False) -> bool:
    """Plan the change sets (clean, dedupe, segment) -> stage -> count -> audit -> publish; returns
    whether anything was published. ``full`` rebuilds silver from all of bronze."""
    t, spark = table_uris(ctx.cfg), ctx.spark
    if not delta_io.exists(spark, t["bronze"]):
        raise InputError("bronze/reviews_raw does not exist: nothing was ever ingested")
    source = delta_io.built_from(spark, t["bronze"], t["disposition"], "bronze_version")
    lacking = silver.lacking_columns(spark, t)
    if lacking and not full:
        log.warning(
            "rebuilding silver from all of bronze: the published tables lack columns this version writes (%s)",
            "; ".join(f"{uri}: {', '.join(columns)}" for uri, columns in lacking.items()),
        )
        full = True
    if source.current and not full:
        log.info("silver is up to date with bronze version %s: nothing to do", source.source_version)
        return False
    bronze_rows = delta_io.read(spark, t["bronze"], version=source.source_version)
    published = silver.read_published(spark, t, rebuild=full)
    with Stager(ctx) as stager, shuffle_partitions_restored(spark):
        since = silver.bronze_changes(spark, t["bronze"], source.recorded, published)
        planned = silver.plan_changes(
            bronze_rows, published, ctx.cfg, ctx.report, lambda name, df: stager.stage(name, df).df, since
        )
        changes, counts = stage_changes(ctx, stager, planned)
        stager.keep_only(changes.values())  # the clustering they were computed from is not read again
        if counts.empty:
            log.info("bronze version %s brings no change to silver", source.source_version)
            return False
        figures = silver.check_accounting(bronze_rows, published, {k: s.df for k, s in changes.items()})
        audit_silver(ctx, stager, changes, published, figures, counts)
        with ctx.step("publish"):
            meta = delta_io.commit_metadata(bronze_version=source.source_version, run_id=ctx.run_id)
            changed = {k: s.df for k, s in changes.items()}
            silver.publish(spark, t, changed, published, meta, ctx.cfg.silver)
    ctx.report.summary["silver"] = {
        "bronze_version": source.source_version,
        "bronze_rows": figures.bronze_rows,
        "changes": counts.upserts,
        "deleted": counts.deletes,
        "outcomes": figures.outcomes,
        "silver_rows": figures.silver_rows,
        "data_docs": [g.docs_page for g in stager.gates],
    }
    return True


def stage_changes(ctx: RunContext, stager: Stager, planned: dict) -> tuple[dict[str, Staged], silver.ChangeCounts]:
    """The change sets computed and held (segmentation runs here), and what the ledger's does."""
    with ctx.step("segment+stage") as st:
        changes = {name: stager.stage(f"silver.{name}_changes", planned[name]) for name in silver.TABLES}
        counts = silver.count_changes(changes["disposition"].df)
        st.rows_in = st.rows_out = counts.upserts.get("kept", 0)
        st.detail = {"ledger_upserts": counts.upserts, "ledger_deletes": counts.deletes}
    return changes, counts


def audit_silver(
    ctx: RunContext,
    stager: Stager,
    changes: dict,
    published: dict,
    figures: silver.SilverFigures,
    counts: silver.ChangeCounts,
) -> None:
    """The gates of the change sets' upserts (not of the tables as they will be: see
    reviewlake/quality/suites/silver.py) and of silver's row count."""
    with ctx.step("quality") as st:
        stager.audit(
            changes["silver"],
            silver_suite.reviews(ctx.cfg),
            view=lambda df: silver.silver_audit_view(published["silver"], df),
            rows=counts.upserts.get("kept", 0),
        )
        stager.audit(
            changes["disposition"],
            silver_suite.disposition(ctx.cfg),
            view=lambda df: df.where(~F.col(delta_io.DELETE_FLAG)).select(*silver.DISPOSITION_COLUMNS),
            rows=sum(counts.upserts.values()),
        )
        stager.audit_rows("silver.reviews", figures.silver_rows, silver_suite.min_rows(ctx.cfg))
        st.detail = {"suites": [g.suite for g in stager.gates]}


# --------------------------------------------------------------------------- the command line
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


def report_unchanged(ctx: RunContext, last: dict) -> None:
    """The report of a run that found nothing changed since run ``last["run_id"]``
    (:mod:`reviewlake.core.run_state`): no file new, no table written, so nothing to do."""
    with ctx.step("ingest") as st:
        st.rows_in = st.rows_out = 0
        st.detail.update(new_files=0, skipped="landing, tables and config unchanged", since_run=last.get("run_id"))
    log.info(
        "nothing changed since run %s (landing listing, table versions %s, config): nothing to do",
        last.get("run_id"),
        last.get("tables"),
    )


def _body(ctx: RunContext, args: argparse.Namespace) -> None:
    inputs = [ctx.cfg.resolve(i) for i in args.input] if args.input else ctx.cfg.ingest.inputs
    request = IngestRequest(inputs, args.full, tuple(args.batch), args.since)
    state = RunState(ctx.cfg, "clean_reviews", request.inputs, table_uris(ctx.cfg))
    last = None if (args.full or args.batch or args.since) else state.unchanged()
    if last is not None:
        report_unchanged(ctx, last)
        return
    run(ctx, request)
    check_failed_files(ctx.report)  # not recorded as done: the next run tries those files again
    state.record(ctx.run_id)


def _options(p: argparse.ArgumentParser) -> None:
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


JOB = Job(
    "clean_reviews",
    "Ingest landing files and build silver.reviews / silver.disposition.",
    body=_body,
    options=_options,
    check=lambda cfg: declared(cfg.clean.rules),
    with_input=True,
)
main = JOB.main

if __name__ == "__main__":
    import sys

    sys.exit(main())

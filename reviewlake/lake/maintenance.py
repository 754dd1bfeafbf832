"""Table maintenance and audit on the lakehouse's Delta tables (``make maintain``, ``make history``,
``make rollback``): OPTIMIZE (compaction, Z-order), VACUUM, table history, RESTORE.

* OPTIMIZE bin-packs small files; a table with columns under ``maintenance.zorder`` is Z-ordered
  by them instead. Delta's Z-order rewrites every file each time, so a table whose latest change
  is already that Z-order is left alone.
* VACUUM deletes the data files that no version younger than ``maintenance.vacuum_retention_hours``
  references. Retentions under the table's ``delta.deletedFileRetentionDuration`` (default 7 days)
  are refused unless ``spark.databricks.delta.retentionDurationCheck.enabled`` is false: a run
  still reading or committing an older snapshot would lose its files, and time travel and
  rollback reach back only as far as the retention.
* A table that still has the ``deletionVectors`` feature (written before the lakehouse's tables
  were made without them, see docs/tables.md "Readers outside Spark") has it dropped, unless the
  session's ``spark.databricks.delta.properties.defaults.enableDeletionVectors`` is true again:
  delta-rs, the reader of pandas/Polars/DuckDB users, refuses any table with that reader feature.
* Each table is maintained or restored while holding the run lock of the job that writes it
  (reviewlake/core/lock.py), so maintenance never interleaves with that job's run.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import SparkSession

from reviewlake.core import delta_io, tables
from reviewlake.core.job import RunContext
from reviewlake.core.lock import job_lock
from reviewlake.core.settings import Settings
from reviewlake.core.storage import hadoop_fs
from reviewlake.core.tables import LAYERS
from reviewlake.errors import ConfigError, LockHeldError

log = logging.getLogger("maintain")

RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"
DV_DEFAULT = "spark.databricks.delta.properties.defaults.enableDeletionVectors"
DEFAULT_RETENTION_HOURS = 168.0
_UNIT_HOURS = {"week": 168.0, "day": 24.0, "hour": 1.0, "minute": 1 / 60, "second": 1 / 3600}


# ----------------------------------------------------------------------------- pure decisions
def table_name(text: str) -> str:
    """``silver/reviews`` (or ``silver.reviews``) checked and normalised to ``layer/table``."""
    layer, sep, table = text.strip().strip("/").replace(".", "/", 1).partition("/")
    if not sep or layer not in LAYERS or not re.fullmatch(r"[A-Za-z0-9_]+", table):
        raise ConfigError(f"table {text!r}: expected <layer>/<table> with layer one of {', '.join(LAYERS)}")
    return f"{layer}/{table}"


def writer_job(name: str) -> str:
    """The job that writes table ``name``: its run lock guards the table's maintenance."""
    return tables.writer_of(name)


def zorder_columns(zorder: Mapping[str, Any] | None, name: str) -> list[str]:
    """Z-order columns of ``layer/table`` from ``maintenance.zorder`` (``{layer: {table: [cols]}}``,
    or flat ``{layer.table: [cols]}``); empty = compaction only."""
    zorder = zorder or {}
    layer, table = name.split("/")
    nested = zorder.get(layer)
    cols = zorder.get(f"{layer}.{table}") or (nested.get(table) if isinstance(nested, Mapping) else None)
    if cols is None:
        return []
    if isinstance(cols, str):
        cols = [cols]
    return [str(c) for c in cols]


def check_zorder(name: str, cols: Sequence[str], columns: Sequence[str], partition_columns: Sequence[str]) -> None:
    missing = [c for c in cols if c not in columns]
    if missing:
        raise ConfigError(f"maintenance.zorder of {name}: no column {', '.join(missing)} in the table")
    partitioned = [c for c in cols if c in partition_columns]
    if partitioned:
        raise ConfigError(f"maintenance.zorder of {name}: {', '.join(partitioned)} is a partition column")


def interval_hours(text: str | None) -> float | None:
    """Hours of a Delta interval property (``interval 7 days``, ``interval 1 week``); None if unknown."""
    m = re.fullmatch(r"\s*(?:interval\s+)?(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*", (text or "").lower())
    if not m or m.group(2) not in _UNIT_HOURS:
        return None
    return float(m.group(1)) * _UNIT_HOURS[m.group(2)]


def retention_floor_hours(properties: Mapping[str, str]) -> float:
    """The shortest VACUUM retention Delta's safety check lets through for a table."""
    return interval_hours(properties.get("delta.deletedFileRetentionDuration")) or DEFAULT_RETENTION_HOURS


def check_retention(name: str, hours: float, floor_hours: float, check_enabled: bool) -> None:
    """Refuse a retention Delta's safety check would refuse, with the reason and the way out."""
    if hours < 0:
        raise ConfigError(f"maintenance.vacuum_retention_hours must be >= 0, got {hours:g}")
    if hours < floor_hours and check_enabled:
        raise ConfigError(
            f"maintenance.vacuum_retention_hours={hours:g} is under the {floor_hours:g} h that {name} keeps "
            "(delta.deletedFileRetentionDuration): VACUUM would delete files that a running job or a "
            "time-travel read of an older version may still need. If nothing else uses the lakehouse "
            "meanwhile, also pass --conf spark.conf." + RETENTION_CHECK + "=false"
        )


def zorder_is_current(history: Sequence[Mapping[str, Any]], cols: Sequence[str]) -> bool:
    """Whether the table's latest change (history newest first, VACUUMs skipped) is an OPTIMIZE
    that Z-ordered it by ``cols``: Z-ordering again would rewrite every file for nothing."""
    for commit in history:
        if commit["operation"] in ("VACUUM START", "VACUUM END"):
            continue
        params = commit.get("operationParameters") or {}
        return commit["operation"] == "OPTIMIZE" and json.loads(params.get("zOrderBy") or "[]") == list(cols)
    return False


def format_history(rows: Sequence[Mapping[str, Any]]) -> str:
    """The table history as an aligned text table (newest first)."""

    def metrics(m: Mapping[str, str] | None) -> str:
        keys = (
            "numOutputRows",
            "numTargetRowsInserted",
            "numTargetRowsUpdated",
            "numTargetRowsDeleted",
            "numAddedFiles",
            "numRemovedFiles",
            "numFiles",
            "numDeletedFiles",
        )
        return " ".join(f"{k}={m[k]}" for k in keys if m and m.get(k) not in (None, "0"))

    def params(p: Mapping[str, str] | None) -> str:
        return " ".join(f"{k}={v}" for k, v in (p or {}).items() if v not in (None, "[]", "null"))

    lines = [f"{'version':>7}  {'timestamp':<19}  {'operation':<14}  parameters / metrics / userMetadata"]
    for r in rows:
        ts = str(r["timestamp"])[:19]
        detail = "  ".join(
            x
            for x in (
                params(r.get("operationParameters")),
                metrics(r.get("operationMetrics")),
                r.get("userMetadata") or "",
            )
            if x
        )
        lines.append(f"{r['version']:>7}  {ts:<19}  {r['operation']:<14}  {detail}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the lakehouse's tables
def list_tables(spark: SparkSession, cfg: Settings) -> list[str]:
    """Every Delta table ``layer/table`` under the lakehouse's bronze/, silver/ and gold/."""
    names = []
    for layer in LAYERS:
        fs, path = hadoop_fs(spark, tables.under(cfg, layer))
        if not fs.exists(path):
            continue
        for status in fs.listStatus(path):
            child = status.getPath().getName()
            name = f"{layer}/{child}"
            if (
                status.isDirectory()
                and not child.startswith(("_", "."))
                and delta_io.exists(spark, tables.under(cfg, name))
            ):
                names.append(name)
    return sorted(names)


def storage_files(spark: SparkSession, uri: str) -> int:
    """Data files on storage under the table (referenced or not; the log excluded)."""
    fs, path = hadoop_fs(spark, uri)
    it, n = fs.listFiles(path, True), 0
    while it.hasNext():
        p = it.next().getPath().toString()
        n += "/_delta_log/" not in p and p.endswith(".parquet")
    return n


@dataclass
class TableResult:
    name: str
    files_before: int = 0  # active files (OPTIMIZE) ...
    files_after: int = 0
    storage_before: int = 0  # ... and data files on storage (VACUUM)
    storage_after: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


def optimize(
    spark: SparkSession, uri: str, cols: Sequence[str], result: TableResult, max_file_bytes: int | None = None
) -> None:
    """Compaction, or Z-order by ``cols`` when the table has several files and changed since its
    last Z-order (with one file there is nothing to skip between files), into files of at most
    ``max_file_bytes`` (Delta's 1 GiB when None)."""
    if cols and result.files_before <= 1:
        cols = []
    elif cols and zorder_is_current(delta_io.history(spark, uri, 10), cols):
        result.detail["optimize"] = f"skipped: already Z-ordered by {', '.join(cols)} since its last change"
        return
    metrics = delta_io.optimize(spark, uri, cols, max_file_bytes)
    result.detail["optimize"] = {
        "zorder": list(cols),
        "files_added": metrics["numFilesAdded"],
        "files_removed": metrics["numFilesRemoved"],
    }


def file_bytes_bound(name: str, table_bytes: int, rows: int, rows_per_file: int) -> int | None:
    """The bytes OPTIMIZE may put in one file of table ``name``: for a silver table (written with at
    most ``silver.rows_per_file`` rows a file, so that an increment's MERGE reads little around the
    rows it changes) the bytes of that many of its rows; None (Delta's 1 GiB) for the others."""
    if name.split("/")[0] != "silver" or rows == 0:
        return None
    return max(1, math.ceil(table_bytes / rows * rows_per_file))


def keeps_deletion_vectors(name: str, silver_has_them: bool, session_default: bool) -> bool:
    """Whether table ``name`` is meant to have deletion vectors: a silver table while
    ``silver.deletion_vectors`` is true, or any table while the session enables them for new ones."""
    return session_default or (silver_has_them and name.split("/")[0] == "silver")


def drop_deletion_vectors(
    spark: SparkSession, cfg: Settings, name: str, features: Sequence[str], result: TableResult
) -> None:
    """Drop the ``deletionVectors`` table feature from a table that has it but is not meant to
    (see :func:`keeps_deletion_vectors`), for readers that cannot read them."""
    session_default = spark.conf.get(DV_DEFAULT, "false").lower() == "true"
    if "deletionVectors" not in features or keeps_deletion_vectors(name, cfg.silver.deletion_vectors, session_default):
        return
    uri = tables.under(cfg, name)
    delta_io.drop_feature(spark, uri, "deletionVectors")
    result.detail["dropped_feature"] = "deletionVectors"


def maintain_table(spark: SparkSession, cfg: Settings, name: str) -> TableResult:
    """Drop deletion vectors (see :func:`drop_deletion_vectors`), OPTIMIZE and/or VACUUM one table
    per the ``maintenance`` settings; files counted before and after."""
    uri, settings = tables.under(cfg, name), cfg.maintenance
    detail = delta_io.detail(spark, uri)
    result = TableResult(name, files_before=int(detail["numFiles"]), storage_before=storage_files(spark, uri))
    drop_deletion_vectors(spark, cfg, name, detail["tableFeatures"] or [], result)
    if settings.optimize:
        rows = delta_io.row_count(spark, uri)
        bound = file_bytes_bound(name, int(detail["sizeInBytes"]), rows, cfg.silver.rows_per_file)
        optimize(spark, uri, zorder_columns(settings.zorder, name), result, bound)
    if settings.vacuum:
        delta_io.vacuum(spark, uri, settings.vacuum_retention_hours, settings.vacuum_list_parallelism)
    result.files_after = int(delta_io.detail(spark, uri)["numFiles"])
    result.storage_after = storage_files(spark, uri)
    return result


def preflight(spark: SparkSession, cfg: Settings, names: Sequence[str]) -> None:
    """Check that every table exists, and its Z-order columns and VACUUM retention, before
    changing anything."""
    check_enabled = spark.conf.get(RETENTION_CHECK, "true").lower() != "false"
    for name in names:
        delta_io.require(spark, tables.under(cfg, name), name)
        detail = delta_io.detail(spark, tables.under(cfg, name))
        cols = zorder_columns(cfg.maintenance.zorder, name)
        check_zorder(name, cols, detail["columns"], detail["partitionColumns"] or [])
        if cfg.maintenance.vacuum:
            floor = retention_floor_hours(detail["properties"] or {})
            check_retention(name, cfg.maintenance.vacuum_retention_hours, floor, check_enabled)


def run(ctx: RunContext, names: Sequence[str] = ()) -> list[TableResult]:
    """Maintain the tables ``names`` (default: every table), each under its writer job's lock. A
    table whose writer is running is skipped; :class:`LockHeldError` (exit 5) names them at the end."""
    spark, cfg = ctx.spark, ctx.cfg
    names = [table_name(t) for t in names] or list_tables(spark, cfg)
    preflight(spark, cfg, names)
    ctx.watch({name: tables.under(cfg, name) for name in names})
    results, busy = [], []
    for name in names:
        try:
            with job_lock(cfg, writer_job(name), ctx.run_id, lambda: spark), ctx.step(name) as st:
                r = maintain_table(spark, cfg, name)
                st.rows_in, st.rows_out = r.files_before, r.files_after
                st.detail = {
                    "active_files": f"{r.files_before} -> {r.files_after}",
                    "files_on_storage": f"{r.storage_before} -> {r.storage_after}",
                    **r.detail,
                }
                results.append(r)
        except LockHeldError as exc:
            log.warning("%s skipped: %s", name, exc)
            busy.append(name)
    ctx.report.summary = {
        "tables": len(names),
        "skipped_busy": busy,
        "vacuum_retention_hours": cfg.maintenance.vacuum_retention_hours,
    }
    if busy:
        raise LockHeldError(
            f"maintained {len(results)} of {len(names)} tables; skipped while their writer "
            f"job runs: {', '.join(busy)} (run make maintain again later)"
        )
    return results


def restore(ctx: RunContext, name: str, version: int) -> dict:
    """RESTORE ``name`` to ``version`` under its writer's lock; the restored version's
    ``userMetadata`` (which upstream version it was built from) is carried into the RESTORE commit."""
    spark, uri = ctx.spark, tables.under(ctx.cfg, name)
    delta_io.require(spark, uri, name)
    versions = {r["version"]: r for r in delta_io.history(spark, uri)}
    current = max(versions)
    if version not in versions:
        raise ConfigError(f"{name} has no version {version} in its history (versions {min(versions)}..{current})")
    if version == current:
        return {"restored": False, "version": current}
    with job_lock(ctx.cfg, writer_job(name), ctx.run_id, lambda: spark):
        metrics = delta_io.restore(spark, uri, version, versions[version].get("userMetadata"))
    new_version = delta_io.history(spark, uri, 1)[0]["version"]
    return {"restored": True, "from_version": current, "to_version": version, "new_version": new_version, **metrics}

"""Delta Lake I/O at the edges, the one module that calls Delta: reads, history and commit
metadata, overwrite and keyed MERGE writes, and the maintenance operations (OPTIMIZE, VACUUM,
RESTORE, dropping a table feature). Each table read and each write is noted for the running job's
lineage (:mod:`reviewlake.core.lineage`: the inputs and outputs of its OpenLineage events)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from delta.tables import DeltaTable
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from reviewlake.core import lineage
from reviewlake.core.spark import HELD, session_conf, sized

log = logging.getLogger(__name__)


def exists(spark: SparkSession, uri: str) -> bool:
    return DeltaTable.isDeltaTable(spark, uri)


def read(spark: SparkSession, uri: str, version: int | None = None) -> DataFrame:
    lineage.read_table(uri)
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


# commits that reorganise files without changing rows (table maintenance, rollbacks keep theirs)
MAINTENANCE_OPERATIONS = ("OPTIMIZE", "VACUUM START", "VACUUM END")


def last_data_commit(spark: SparkSession, uri: str) -> tuple[int | None, str | None]:
    """(version, userMetadata) of the table's latest commit that changed its rows, skipping
    OPTIMIZE/VACUUM; (None, None) if the table does not exist. Jobs record and compare these
    versions, so compacting or vacuuming a table does not make the next run recompute."""
    if not exists(spark, uri):
        return None, None
    row = (
        DeltaTable.forPath(spark, uri)
        .history()
        .where(~F.col("operation").isin(*MAINTENANCE_OPERATIONS))
        .orderBy(F.col("version").desc())
        .select("version", "userMetadata")
        .first()
    )
    return (int(row[0]), row[1]) if row else (version(spark, uri), None)


def commit_metadata(**values: Any) -> str:
    """JSON for Delta's ``userMetadata`` commit field (read back by :func:`read_commit_metadata`)."""
    return json.dumps(values, sort_keys=True, default=str)


def read_commit_metadata(spark: SparkSession, uri: str) -> dict:
    """``userMetadata`` of the table's latest data-changing commit as a dict ({} if absent):
    maintenance commits (OPTIMIZE, VACUUM) are skipped."""
    return parse_metadata(last_data_commit(spark, uri)[1])


def parse_metadata(meta: str | None) -> dict:
    """A commit's ``userMetadata`` (as :func:`last_data_commit` returns it) as a dict ({} if absent
    or not a JSON object)."""
    try:
        value = json.loads(meta) if meta else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class BuiltFrom:
    """Whether a derived table is up to date with the table it is built from."""

    source_version: int  # the source's latest data-changing version
    recorded: Any  # the source version the target's last build recorded (None: never built)

    @property
    def current(self) -> bool:
        return self.recorded == self.source_version


def built_from(spark: SparkSession, source_uri: str, target_uri: str, key: str) -> BuiltFrom:
    """The source's latest data version, and the one the target's latest data commit recorded in
    its metadata under ``key`` (jobs record it when they publish: :func:`commit_metadata`)."""
    version, _ = last_data_commit(spark, source_uri)
    return BuiltFrom(version, read_commit_metadata(spark, target_uri).get(key))


@dataclass(frozen=True)
class ChangesSince:
    """What the data commits of a table after some version did: whether any may have removed rows
    (anything but appends and MERGEs that deleted nothing; conservative: an unknown operation
    counts as removing), and the batches they wrote (the ``batch_id`` of their commit metadata;
    None when a data commit does not name its batch: then they are not known)."""

    removed: bool
    batches: tuple[str, ...] | None


def changes_since(spark: SparkSession, uri: str, since: int) -> ChangesSince:
    """:class:`ChangesSince` the table's version ``since``, from its history (no data read)."""
    commits = (
        DeltaTable.forPath(spark, uri)
        .history()
        .where((F.col("version") > since) & ~F.col("operation").isin(*MAINTENANCE_OPERATIONS))
        .select("operation", "operationParameters", "operationMetrics", "userMetadata")
        .collect()
    )
    removed, batches = False, set()
    for op, params, metrics, meta in commits:
        deleted = [int(v) for k, v in (metrics or {}).items() if k.startswith("numTargetRows") and "Deleted" in k]
        appended = op == "WRITE" and (params or {}).get("mode") == "Append"
        removed = removed or not (appended or (op == "MERGE" and deleted and not any(deleted)))
        # a batch is trusted only where the commit wrote that batch's rows (a RESTORE carries the
        # metadata of the version it restores)
        batch = parse_metadata(meta).get("batch_id") if op in ("WRITE", "MERGE") else None
        batches = None if batches is None or batch is None else batches | {batch}
    return ChangesSince(removed, None if batches is None else tuple(sorted(batches)))


def removed_rows_since(spark: SparkSession, uri: str, since: int) -> bool:
    """Whether a data commit after version ``since`` may have removed rows (see :class:`ChangesSince`)."""
    return changes_since(spark, uri, since).removed


# Spark's bound on the rows of one written file; Delta's writes (MERGE included) honour it.
MAX_ROWS_PER_FILE = "spark.sql.files.maxRecordsPerFile"


def overwrite(
    df: DataFrame,
    uri: str,
    partition_by: Sequence[str] = (),
    user_metadata: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> None:
    """Replace the table's content in one atomic Delta commit (schema replaced too);
    ``user_metadata`` is stored in the commit (``userMetadata`` of the table history);
    ``properties`` (``delta.*`` table properties) are set by the same commit."""
    writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
    for key, value in (properties or {}).items():
        writer = writer.option(key, value)
    if user_metadata is not None:
        writer = writer.option("userMetadata", user_metadata)
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(uri)
    lineage.wrote_table(uri)


def append(df: DataFrame, uri: str, user_metadata: str | None = None) -> None:
    """Append ``df`` in one commit (creating the table if absent); the caller makes sure its rows
    are not there yet (see :func:`holds`)."""
    writer = df.write.format("delta").mode("append")
    if user_metadata is not None:
        writer = writer.option("userMetadata", user_metadata)
    writer.save(uri)
    lineage.wrote_table(uri)


def holds(spark: SparkSession, uri: str, condition: Column) -> bool:
    """Whether the table has a row where ``condition`` holds (False where there is no table): a
    literal filter on a column the files are sorted by reads only the files that may hold one."""
    return exists(spark, uri) and bool(read(spark, uri).where(condition).limit(1).count())


def _key_condition(keys: Sequence[str]) -> str:
    return " AND ".join(f"t.`{k}` <=> s.`{k}`" for k in keys)


def merge(
    spark: SparkSession,
    df: DataFrame,
    uri: str,
    keys: Sequence[str],
    delete_unmatched: Column | None = None,
    user_metadata: str | None = None,
) -> None:
    """Upsert ``df`` into the table by ``keys`` (creating it if absent): a rerun changes nothing.

    ``delete_unmatched`` (a condition on the target, alias ``t``) also deletes, in the same
    commit, target rows that match it but no source row: e.g. the stale records of a changed file.
    ``user_metadata`` is stored in the commit.
    """
    with _commit_message(spark, user_metadata):
        if not exists(spark, uri):
            df.write.format("delta").mode("errorifexists").save(uri)
            lineage.wrote_table(uri)
            return
        builder = (
            DeltaTable.forPath(spark, uri)
            .alias("t")
            .merge(df.alias("s"), _key_condition(keys))
            .whenMatchedUpdateAll()
            .whenNotMatchedInsertAll()
        )
        if delete_unmatched is not None:
            builder = builder.whenNotMatchedBySourceDelete(delete_unmatched)
        builder.execute()
        lineage.wrote_table(uri)


DELETE_FLAG = "_delete"
ROW_HASH = "row_hash"


def with_row_hash(df: DataFrame, keys: Sequence[str]) -> DataFrame:
    """``df`` with ``row_hash``: xxhash64 of its columns other than ``keys`` and of which of them
    are null (xxhash64 skips a null, so without the flags ``(null, 'a')`` and ``('a', null)``
    would hash alike). :func:`apply_changes` compares a row with its published version by it."""
    values = [F.col(f"`{c}`") for c in df.columns if c not in keys]
    return df.withColumn(ROW_HASH, F.xxhash64(*values, *[v.isNull() for v in values]))


# Delta's check that every row an overwrite-where commit writes satisfies its predicate: off for
# :func:`apply_changes`, whose predicate names the rows it removes, not the ones it writes.
REPLACE_WHERE_CHECK = "spark.databricks.delta.replaceWhere.constraintCheck.enabled"


def apply_changes(
    spark: SparkSession,
    changes: DataFrame,
    uri: str,
    keys: Sequence[str],
    columns: Sequence[str],
    user_metadata: str | None = None,
    properties: Mapping[str, str] | None = None,
    max_replaced: int = 0,
) -> None:
    """Apply a change set in one commit: rows with ``_delete`` true delete the target row of their
    key (if any), the others upsert ``columns``. Creates the table if absent. A matched row is
    rewritten only where it differs from the published one (by ``row_hash`` alone where ``columns``
    hold it, :func:`with_row_hash`), so applying the same change set twice gives the same table and
    the second time writes no row (by name, below: it makes no commit).

    With one key and ``row_hash``, where at most ``max_replaced`` published rows are deleted or
    replaced, the commit is an overwrite-where: the rows it removes are named by a literal list of
    their keys (with deletion vectors on the table, Delta marks them in a vector instead of copying
    their files' other rows), and the new and changed rows are appended. A MERGE, the fallback,
    reads every column of each file holding a matched row to find the rows it keeps (measured:
    27 s of a 31 s MERGE into silver/reviews at 100x, docs/operations.md#writes)."""
    upserts = changes.where(~F.col(DELETE_FLAG))
    with _commit_message(spark, user_metadata):
        if not exists(spark, uri):
            upserts.select(*columns).write.format("delta").mode("errorifexists").options(**(properties or {})).save(uri)
        else:
            set_properties(spark, uri, properties or {})
            replaced = ROW_HASH in columns and len(keys) == 1
            if not (replaced and _replace_changed(spark, changes, uri, keys[0], columns, max_replaced)):
                _merge_changes(spark, changes, uri, keys, columns)
        lineage.wrote_table(uri)


def _replace_changed(
    spark: SparkSession, changes: DataFrame, uri: str, key: str, columns: Sequence[str], max_replaced: int
) -> bool:
    """Apply ``changes`` as one overwrite-where commit (see :func:`apply_changes`); False, with
    nothing written, where it would delete or replace more than ``max_replaced`` published rows."""
    published = read(spark, uri).select(key, F.col(ROW_HASH).alias("_published_hash"), F.lit(True).alias("_published"))
    # narrowed to the change set's keys first: a semi join on which the keys, planned on their real
    # size, are broadcast when few. The left join alone cannot broadcast its right side, and
    # shuffled every published key (~4 s a table for the fixed increment at 100x).
    with sized(changes.select(key)) as keys:
        # held: read twice, for the keys it removes and for the rows it writes
        compared = changes.join(published.join(keys, key, "left_semi"), key, "left").persist(HELD)
        try:
            return _write_changed(spark, compared, uri, key, columns, max_replaced)
        finally:
            compared.unpersist()


def _write_changed(
    spark: SparkSession, compared: DataFrame, uri: str, key: str, columns: Sequence[str], max_replaced: int
) -> bool:
    """The overwrite-where commit of :func:`_replace_changed`, from the change set joined with the
    published keys and hashes (``compared``)."""
    differs = ~F.col(ROW_HASH).eqNullSafe(F.col("_published_hash"))
    removed = compared.where(F.col("_published") & (F.col(DELETE_FLAG) | differs)).select(key)
    # collected: the keys are the literals of the commit's predicate, at most max_replaced of them
    ids = [r[0] for r in removed.limit(max_replaced + 1).collect()]
    if len(ids) > max_replaced:
        return False
    writer = compared.where(~F.col(DELETE_FLAG) & differs).select(*columns).write.format("delta")
    if not ids:
        writer.mode("append").save(uri)
        return True
    with session_conf(spark, {REPLACE_WHERE_CHECK: "false"}):
        writer.mode("overwrite").option("replaceWhere", _in_list(key, ids)).save(uri)
    return True


def _in_list(column: str, values: Sequence[str]) -> str:
    """The SQL predicate ``column IN (values)``, the values as escaped string literals."""
    literals = ("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'" for v in values)
    return f"`{column}` IN ({', '.join(literals)})"


def _merge_changes(
    spark: SparkSession, changes: DataFrame, uri: str, keys: Sequence[str], columns: Sequence[str]
) -> None:
    """Apply ``changes`` by one MERGE (see :func:`apply_changes`): where ``columns`` hold
    ``row_hash`` it reads of the target only the keys and the hash to find the files it rewrites."""
    values = {c: F.col(f"s.`{c}`") for c in columns}
    compared = [ROW_HASH] if ROW_HASH in columns else [c for c in columns if c not in keys]
    differs = " OR ".join(f"NOT (t.`{c}` <=> s.`{c}`)" for c in compared)
    (
        DeltaTable.forPath(spark, uri)
        .alias("t")
        .merge(changes.alias("s"), _key_condition(keys))
        .whenMatchedDelete(F.col(f"s.{DELETE_FLAG}"))
        .whenMatchedUpdate(differs or None, set=values)
        .whenNotMatchedInsert(~F.col(f"s.{DELETE_FLAG}"), values=values)
        .execute()
    )


def set_properties(spark: SparkSession, uri: str, properties: Mapping[str, str]) -> None:
    """Give the table these ``delta.*`` properties where it has other values (one commit; none
    when it already has them: its metadata is read without a Spark job)."""
    current = DeltaTable.forPath(spark, uri).detail().first()["properties"] or {}
    missing = {k: v for k, v in properties.items() if current.get(k) != v}
    if missing:
        pairs = ", ".join(f"'{k}' = '{v}'" for k, v in missing.items())
        spark.sql(f"ALTER TABLE delta.`{uri}` SET TBLPROPERTIES ({pairs})")


@contextmanager
def _commit_message(spark: SparkSession, user_metadata: str | None) -> Iterator[None]:
    """Set Delta's commit ``userMetadata`` for the writes inside the block."""
    key = "spark.databricks.delta.commitInfo.userMetadata"
    if user_metadata is None:
        yield
        return
    spark.conf.set(key, user_metadata)
    try:
        yield
    finally:
        spark.conf.unset(key)


# ----------------------------------------------------------------------------- maintenance
HISTORY_COLUMNS = ("version", "timestamp", "operation", "operationParameters", "operationMetrics", "userMetadata")


def history(spark: SparkSession, uri: str, limit: int | None = None) -> list[dict]:
    """``DESCRIBE HISTORY`` of the table, newest first, as dicts."""
    table = DeltaTable.forPath(spark, uri)
    df = table.history(limit) if limit else table.history()
    return [r.asDict() for r in df.select(*HISTORY_COLUMNS).collect()]


def require(spark: SparkSession, uri: str, name: str) -> None:
    """:class:`FileNotFoundError` (exit 2) unless a Delta table ``name`` is at ``uri``."""
    if not exists(spark, uri):
        raise FileNotFoundError(f"no Delta table {name} at {uri}")


def row_count(spark: SparkSession, uri: str) -> int:
    """The table's rows: Delta answers from the row counts its log keeps per file (no data read)."""
    return read(spark, uri).count()


def detail(spark: SparkSession, uri: str) -> dict[str, Any]:
    """``DESCRIBE DETAIL`` of the table (``numFiles``, ``tableFeatures``, ``partitionColumns``,
    ``properties``...) and its ``columns``."""
    table = DeltaTable.forPath(spark, uri)
    return {**table.detail().first().asDict(), "columns": table.toDF().columns}


OPTIMIZE_MAX_FILE_BYTES = "spark.databricks.delta.optimize.maxFileSize"


def optimize(
    spark: SparkSession, uri: str, zorder_by: Sequence[str] = (), max_file_bytes: int | None = None
) -> dict[str, Any]:
    """OPTIMIZE: compaction, or Z-order by ``zorder_by``, into files of at most ``max_file_bytes``
    (Delta's default, 1 GiB, when None); returns Delta's metrics."""
    builder = DeltaTable.forPath(spark, uri).optimize()
    bound = {OPTIMIZE_MAX_FILE_BYTES: str(max_file_bytes)} if max_file_bytes else {}
    with session_conf(spark, bound):
        result = builder.executeZOrderBy(*zorder_by) if zorder_by else builder.executeCompaction()
    lineage.wrote_table(uri)
    return result.first()["metrics"].asDict()


LIST_PARALLELISM = "spark.sql.sources.parallelPartitionDiscovery.parallelism"


def vacuum(spark: SparkSession, uri: str, hours: float, list_parallelism: int) -> None:
    """VACUUM with Delta's listing parallelism lowered for the run (its default, 10,000 tasks, is
    sized for clusters and takes minutes in local mode)."""
    with session_conf(spark, {LIST_PARALLELISM: str(list_parallelism)}):
        DeltaTable.forPath(spark, uri).vacuum(hours)
        lineage.wrote_table(uri)


def drop_feature(spark: SparkSession, uri: str, feature: str) -> None:
    """Drop a table feature (Delta rewrites what uses it, then downgrades the protocol)."""
    spark.sql(f"ALTER TABLE delta.`{uri}` DROP FEATURE {feature}")
    lineage.wrote_table(uri)


def restore(spark: SparkSession, uri: str, version: int, user_metadata: str | None = None) -> dict[str, Any]:
    """RESTORE the table to ``version`` (a new version with that content); returns Delta's metrics."""
    with _commit_message(spark, user_metadata):
        metrics = DeltaTable.forPath(spark, uri).restoreToVersion(version).first().asDict()
    lineage.wrote_table(uri)
    return metrics

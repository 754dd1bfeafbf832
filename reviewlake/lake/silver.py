"""Silver from bronze, as change sets: the rows of ``silver/reviews``, the ledger
(``silver/disposition``: every bronze review's outcome) and the dedupe index
(``silver/dedupe_index``) that a new bronze version adds, changes or deletes, computed over only
what it touches (:mod:`reviewlake.lake.incremental`); the run's invariant over the tables as they
will be; and their publication (the ledger last, with the bronze version it reflects, so a run
killed between the commits is redone by the next one: each change set is an idempotent MERGE).

A change set holds the table's columns plus ``_delete`` (:data:`reviewlake.core.delta_io.DELETE_FLAG`):
upserts, and deletes of the review ids the run touched that no longer belong in the table.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from reviewlake.core import delta_io
from reviewlake.core.delta_io import ChangesSince
from reviewlake.core.report import RunReport
from reviewlake.core.settings import Dedupe, Settings, Silver
from reviewlake.core.spark import HELD, held_and_counted, session_conf, size_shuffles, sized, spread
from reviewlake.core.tally import tally
from reviewlake.errors import InvariantError
from reviewlake.lake import clean, dedupe, dedupe_local, incremental
from reviewlake.lake.labels import label_column
from reviewlake.lake.minhash import LshParams, default_params
from reviewlake.lake.segment import tokens_column
from reviewlake.text import signals
from reviewlake.text.segment import SegmenterSpec

log = logging.getLogger(__name__)

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
    *signals.SCORES,
    *signals.COUNTS,
    "quality_flags",
)
DISPOSITION_COLUMNS = ("review_id", "batch_id", "outcome", "rule", "survivor_id", "detail")
TABLES = ("silver", "index", "disposition")  # publish order: the ledger commits last
CONTENT_COLUMNS = {"silver": SILVER_COLUMNS, "index": incremental.INDEX_COLUMNS, "disposition": DISPOSITION_COLUMNS}
# what each table holds: its content and the hash of it an increment's MERGE compares
COLUMNS = {name: (*columns, delta_io.ROW_HASH) for name, columns in CONTENT_COLUMNS.items()}
Materialize = Callable[[str, DataFrame], DataFrame]
DELETION_VECTORS = "delta.enableDeletionVectors"


def clean_rows(rows: DataFrame, cfg: Settings, report: RunReport) -> DataFrame:
    """Clean ``rows`` (bronze rows), measure their soft-signal scores (on the text before the
    run-collapsing rules) and derive labels; persisted (it feeds counts, the ledger and dedupe).
    Per-rule counts go to ``report``."""
    rules = clean.build_rules(cfg.clean)
    with report.stage("clean") as st:
        measured = clean.apply_rules(rows, rules, measured="_measured")
        cleaned = (
            signals.with_scores(measured, "_measured", cfg.signals)
            .drop("_measured")
            .withColumn("label", label_column(F.col("label_raw"), F.col("rating"), cfg.labels.from_rating))
            .persist(HELD)
        )
        total, counts = clean.rule_counts(cleaned, rules)
        removed = sum(c.get("removed", 0) for c in counts.values())
        st.rows_in, st.rows_out, st.detail = total, total - removed, {"rules": counts}
        report.summary["clean"] = {"rows_in": total, "rows_out": total - removed, "rules": counts}
    return cleaned


def lsh_params(settings: Dedupe) -> LshParams:
    """The MinHash LSH parameters of the ``dedupe`` settings."""
    return default_params(settings.threshold, settings.ngram, settings.max_perm, settings.seed, settings.min_recall)


def cluster(population: DataFrame, settings: Dedupe) -> DataFrame:
    """Exact + near clusters, survivors and label resolution over ``population`` (see
    :mod:`reviewlake.lake.dedupe`); adds ``source_label`` (the row's label before resolution) and
    ``dropped`` (the row's cluster is removed by the ``drop`` label policy)."""
    policy = settings.label_conflict_policy
    # persisted: label resolution reads the clusters three times (counts, survivors, rows)
    clustered = dedupe.assign_clusters(
        population.withColumn("source_label", F.col("label")),
        lsh_params(settings),
        settings.threshold,
        settings.near_min_chars,
        near=settings.near,
        local_max_edges=settings.local_components_max_edges,
    ).persist(HELD)
    return dedupe.resolve_labels(clustered, policy).withColumn(
        "dropped", F.col("label_conflict") & F.lit(policy == "drop")
    )


def cluster_on_driver(population: DataFrame, settings: Dedupe) -> DataFrame:
    """:func:`cluster` computed on the driver (:mod:`reviewlake.lake.dedupe_local`), for a small population."""
    return dedupe_local.cluster(
        population,
        lsh_params(settings),
        settings.threshold,
        settings.near_min_chars,
        settings.near,
        settings.label_conflict_policy,
    )


def filtered_ledger(cleaned: DataFrame) -> DataFrame:
    """One ``silver.disposition`` row per review of ``cleaned`` that a clean rule removed."""
    return cleaned.where(F.col("filtered_by").isNotNull()).select(
        "review_id",
        "batch_id",
        F.lit("filtered").alias("outcome"),
        F.col("filtered_by").alias("rule"),
        F.lit(None).cast("string").alias("survivor_id"),
        F.substring("text", 1, 80).alias("detail"),
    )


def ledger_rows(clustered: DataFrame, filtered: DataFrame) -> DataFrame:
    """One ``silver.disposition`` row per clustered review, and the ``filtered`` ones
    (:func:`filtered_ledger`)."""
    return (
        filtered.select(*DISPOSITION_COLUMNS)
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


def cluster_counts(clustered: DataFrame) -> DataFrame:
    """``dup_cluster_id``, ``cluster_products`` and ``cluster_users``: the distinct product and
    user ids among all members of each cluster of ``clustered`` (duplicates included; a null id
    does not count). ``clustered`` holds whole clusters (see :mod:`reviewlake.lake.incremental`),
    so the counts are recomputed whenever a cluster is, as a rebuild would compute them."""
    return clustered.groupBy("dup_cluster_id").agg(
        F.countDistinct("product_id").cast("int").alias("cluster_products"),
        F.countDistinct("user_id").cast("int").alias("cluster_users"),
    )


def silver_rows(clustered: DataFrame, cfg: Settings, population: int) -> DataFrame:
    """The kept reviews, segmented, with their cluster's counts and their soft-signal flags, as
    ``silver.reviews`` rows; dealt into partitions of about ``spark.rows_per_partition`` rows of
    the ``population`` clustered (:func:`spread`: segmentation's cost goes by rows)."""
    spec = SegmenterSpec.from_config(cfg.segment)
    kept = clustered.where((F.col("outcome") == "kept") & ~F.col("dropped"))
    return (
        spread(kept.join(cluster_counts(clustered), "dup_cluster_id"), population, cfg.spark.rows_per_partition)
        .withColumn("quality_flags", signals.flags_column(cfg.signals))
        .withColumn("tokens", tokens_column(F.col("text"), spec))
        .withColumn("token_count", F.size("tokens"))
        .withColumn("char_len", F.length("text"))
        .select(*SILVER_COLUMNS)
    )


def with_deletes(upserts: DataFrame, ids: DataFrame | None) -> DataFrame:
    """A change set for :func:`delta_io.apply_changes`: ``upserts`` plus a delete for every id
    of ``ids`` that is not upserted; ``ids`` None (a rebuild, which overwrites each table with its
    upserts): no deletes, and none of the joins that find them."""
    flagged = upserts.withColumn(delta_io.DELETE_FLAG, F.lit(False))
    if ids is None:
        return flagged
    deletes = ids.join(upserts.select("review_id"), "review_id", "left_anti")
    for field in upserts.schema.fields:
        if field.name != "review_id":
            deletes = deletes.withColumn(field.name, F.lit(None).cast(field.dataType))
    return flagged.unionByName(deletes.withColumn(delta_io.DELETE_FLAG, F.lit(True)))


def prospective(published: DataFrame | None, changes: DataFrame, columns: Sequence[str], held: ExitStack) -> DataFrame:
    """The table as it will be once ``changes`` are applied (what the run's invariant counts).
    The change set's ids are held (by ``held``, which releases them) and counted first, so that
    the join that finds the untouched published rows is planned on their real size: a broadcast
    when they are few (on the estimate it shuffled every published row)."""
    upserts = changes.where(~F.col(delta_io.DELETE_FLAG)).select(*columns)
    if published is None:
        return upserts
    ids = held.enter_context(sized(changes.select("review_id")))
    return untouched(published, ids).select(*columns).unionByName(upserts)


def untouched(published: DataFrame, changes: DataFrame) -> DataFrame:
    """The published rows ``changes`` neither upserts nor deletes."""
    return published.join(changes.select("review_id"), "review_id", "left_anti")


def silver_audit_view(published: DataFrame | None, changes: DataFrame) -> DataFrame:
    """What silver's gate validates: the rows ``changes`` upserts, each with ``clashes_with``, the
    ``review_id`` of a published row that the change set leaves in place and whose ``text_hash``
    it repeats (null where none; a row repeated by several published rows appears once per row),
    and ``unknown_flag``, the first of its ``quality_flags`` that is no known flag (null where none)."""
    known = F.array(*[F.lit(f) for f in signals.FLAGS])
    upserts = (
        changes.where(~F.col(delta_io.DELETE_FLAG))
        .select(*SILVER_COLUMNS)
        .withColumn("unknown_flag", F.get(F.array_except("quality_flags", known), 0))
    )
    if published is None:
        return upserts.withColumn("clashes_with", F.lit(None).cast("string"))
    # the published rows narrowed to the upserts' hashes first: a semi join on which the (held,
    # small) change set is broadcast. The left join alone cannot broadcast its right side's
    # whole table, and shuffled it (3.3 million rows at 100x).
    repeated = published.join(upserts.select("text_hash"), "text_hash", "left_semi")
    kept = untouched(repeated, changes).select("text_hash", F.col("review_id").alias("clashes_with"))
    return upserts.join(kept, "text_hash", "left")


def touched_rows(bronze: DataFrame, published: Mapping[str, DataFrame | None], since: ChangesSince) -> tuple:
    """(bronze rows the ledger has not seen, review ids of those and of published rows bronze no
    longer holds). ``since``: what bronze's commits since the tables were built did. Where they
    name their batches, the new rows are those batches' (a literal filter Delta skips files on:
    only the new files are read); else bronze is compared with the ledger."""
    if published["disposition"] is None:
        fresh = bronze
    elif since.batches is not None:
        fresh = bronze.where(F.col("batch_id").isin(list(since.batches)) if since.batches else F.lit(False))
    else:
        fresh = incremental.new_rows(bronze, published["disposition"])
    gone = (
        incremental.gone_ids(bronze, published["disposition"], published["index"], published["silver"])
        if since.removed
        else bronze.sparkSession.createDataFrame([], "review_id string")
    )
    return fresh, fresh.select("review_id").unionByName(gone).distinct()


def population(index: DataFrame | None, touched: DataFrame, candidates: DataFrame, settings: Dedupe) -> DataFrame:
    """The rows to cluster: the new candidates, and the index rows of every cluster they or the
    touched ids may change (all of them when there is no index yet)."""
    if index is None:
        return candidates.select(*incremental.POPULATION_COLUMNS)
    # touched ids and affected clusters computed before the joins with the index, so that those
    # are broadcasts when the ids are few. Planned on estimates (bronze's size for the ids) they
    # were sort-merge joins that shuffled every index row with all its columns: 1.3 GB for the
    # fixed 3,471-review increment at 100x (bench/README.md).
    touched = held_and_counted(touched)
    affected = held_and_counted(
        incremental.affected_clusters(
            index, touched, candidates, lsh_params(settings), settings.near_min_chars, near=settings.near
        )
    )
    # persisted: clustering reads the population several times, and each read would redo the band
    # lookup against the whole index (measured: dedupe 150-190 s instead of ~20 s on a 400-row increment)
    return incremental.population(index, touched, affected, candidates).persist(HELD)


def dedupe_step(
    population_of: Callable[[], DataFrame],
    settings: Dedupe,
    report: RunReport,
    materialize: Materialize,
    rows_per_partition: int,
) -> tuple[DataFrame, int]:
    """Cluster the population ``population_of()`` gives (its probe of the index is timed with the
    stage, and apart as the stage's ``probe_seconds``), held by ``materialize``; its figures in one
    aggregation, into the report. From here on the session's shuffles are sized by the population
    (:func:`size_shuffles`). Returns the clustering and the population's size."""
    with report.stage("dedupe") as st:
        started = time.perf_counter()
        pop = population_of()  # the probe runs here (the population itself is read by the count below)
        probe_seconds = time.perf_counter() - started
        params = lsh_params(settings)
        report.summary["dedupe_params"] = {
            "bands": params.bands,
            "rows": params.rows,
            "ngram": params.ngram,
            "p_candidate_at_threshold": round(params.p_candidate(settings.threshold), 4),
        }
        size = pop.count()  # decides where the population is clustered, and in how many partitions
        on_driver = size <= settings.local_max_rows
        partitions = size_shuffles(pop.sparkSession, size, rows_per_partition)
        clustered = materialize(
            "silver.clustered", cluster_on_driver(pop, settings) if on_driver else cluster(pop, settings)
        )
        figures = clustered.agg(
            F.count("*").alias("population"),
            F.countDistinct(F.when(F.col("label_conflict"), F.col("dup_cluster_id"))).alias("clusters"),
            F.sum(F.col("label_conflict").cast("long")).alias("rows"),
            F.sum(((F.col("outcome") == "kept") & ~F.col("dropped")).cast("long")).alias("kept"),
        ).first()
        report.summary["label_conflicts"] = {
            "policy": settings.label_conflict_policy,
            "clusters": int(figures["clusters"]),
            "rows": int(figures["rows"] or 0),
        }
        st.rows_in, st.rows_out = int(figures["population"]), int(figures["kept"] or 0)
        st.detail = {
            "label_conflicts": report.summary["label_conflicts"],
            "lsh": report.summary["dedupe_params"],
            "population": int(figures["population"]),
            "clustered_on": "driver" if on_driver else "spark",
            "shuffle_partitions": partitions,
            "probe_seconds": round(probe_seconds, 2),
        }
    return clustered, size


def plan_changes(
    bronze: DataFrame,
    published: Mapping[str, DataFrame | None],
    cfg: Settings,
    report: RunReport,
    materialize: Materialize,
    since: ChangesSince,
) -> dict[str, DataFrame]:
    """The change sets of silver, the ledger and the dedupe index that bring them up to date with
    ``bronze`` (``published``: their current content, None where absent or rebuilt): clean the
    new rows, cluster them with what they may join, segment the kept ones.

    ``materialize(name, df)`` computes ``df`` once and returns it held, its lineage cut (the
    clustering is used by three change sets, and its query plan would otherwise grow too large
    for the analyser). The session's cache is empty when this returns: the change sets derive
    from the held clustering, filtered rows and touched ids alone."""
    fresh, touched = touched_rows(bronze, published, since)
    cleaned = clean_rows(fresh, cfg, report)
    candidates = dedupe.with_text_hash(cleaned.where(F.col("filtered_by").isNull()))
    clustered, size = dedupe_step(
        lambda: population(published["index"], touched, candidates, cfg.dedupe),
        cfg.dedupe,
        report,
        materialize,
        cfg.spark.rows_per_partition,
    )
    filtered = materialize("silver.filtered", filtered_ledger(cleaned))
    rebuild = published["disposition"] is None
    ids = None if rebuild else materialize("silver.ids", touched.unionByName(clustered.select("review_id")).distinct())
    # The change sets read only the held frames above from here on: what planning cached (the
    # cleaned rows, the population, dedupe's intermediates; at 100x several copies of every row)
    # is released before segmentation, the gates and publish need the memory. Left cached, those
    # frames would also be re-cached (recomputed) by every MERGE into a table they read.
    bronze.sparkSession.catalog.clearCache()
    upserts = {
        "silver": silver_rows(clustered, cfg, size),
        "disposition": ledger_rows(clustered, filtered),
        "index": clustered.select(*incremental.INDEX_COLUMNS),
    }
    return {name: with_deletes(delta_io.with_row_hash(rows, ["review_id"]), ids) for name, rows in upserts.items()}


def read_published(spark: SparkSession, t: Mapping[str, str], rebuild: bool) -> dict[str, DataFrame | None]:
    """The three tables as published, or None for each when they are rebuilt (``rebuild``, or one
    of them is missing)."""
    rebuild = rebuild or not all(delta_io.exists(spark, t[name]) for name in TABLES)
    return {name: None if rebuild else delta_io.read(spark, t[name]) for name in TABLES}


def lacking_columns(spark: SparkSession, t: Mapping[str, str]) -> dict[str, list[str]]:
    """The columns this version writes that the published tables lack, by table URI (empty when
    none does): a lakehouse written before they existed. Its silver is migrated by a rebuild from
    bronze, which replaces the tables' schemas (a MERGE would not add them: autoMerge is off)."""
    found = {name: delta_io.read(spark, t[name]).columns for name in TABLES if delta_io.exists(spark, t[name])}
    lacking = {t[name]: [c for c in COLUMNS[name] if c not in columns] for name, columns in found.items()}
    return {uri: columns for uri, columns in lacking.items() if columns}


def bronze_changes(spark: SparkSession, bronze_uri: str, built_from: int | None, published: Mapping) -> ChangesSince:
    """What bronze's commits since the tables were built (from version ``built_from``) did; a
    rebuild (nothing published) needs nothing of it, and tables that recorded no bronze version
    get the safe answer (rows may be gone, batches unknown)."""
    if published["disposition"] is None:
        return ChangesSince(removed=False, batches=None)
    if built_from is None:
        return ChangesSince(removed=True, batches=None)
    return delta_io.changes_since(spark, bronze_uri, int(built_from))


@dataclass(frozen=True)
class ChangeCounts:
    """What the ledger's change set does: upserts per outcome, and deletes."""

    upserts: dict[str, int]
    deletes: int

    @property
    def empty(self) -> bool:
        return not self.upserts and not self.deletes


def count_changes(ledger_changes: DataFrame) -> ChangeCounts:
    figures = tally(
        upserts=ledger_changes.where(~F.col(delta_io.DELETE_FLAG)).select(F.col("outcome").alias("key")),
        deletes=ledger_changes.where(F.col(delta_io.DELETE_FLAG)),
    )
    return ChangeCounts(figures["upserts"], sum(figures["deletes"].values()))


@dataclass(frozen=True)
class SilverFigures:
    """The tables as they will be: bronze rows, ledger rows per outcome, silver rows."""

    bronze_rows: int
    outcomes: dict[str, int]
    silver_rows: int


def check_accounting(
    bronze: DataFrame, published: Mapping[str, DataFrame | None], changes: Mapping[str, DataFrame]
) -> SilverFigures:
    """The invariant, from one action over bronze and the tables as they will be: every bronze
    review has one ledger row, and every kept one a silver row (:class:`InvariantError` if not)."""
    with ExitStack() as held:
        after = {n: prospective(published[n], changes[n], COLUMNS[n], held) for n in ("disposition", "silver")}
        figures = tally(
            bronze=bronze, outcomes=after["disposition"].select(F.col("outcome").alias("key")), silver=after["silver"]
        )
    out = SilverFigures(sum(figures["bronze"].values()), figures["outcomes"], sum(figures["silver"].values()))
    if sum(out.outcomes.values()) != out.bronze_rows:
        raise InvariantError(f"{out.bronze_rows} bronze reviews but {sum(out.outcomes.values())} disposition rows")
    if out.outcomes.get("kept", 0) != out.silver_rows:
        raise InvariantError(f"{out.outcomes.get('kept', 0)} kept dispositions but {out.silver_rows} silver rows")
    return out


def publish(
    spark: SparkSession,
    t: Mapping[str, str],
    changes: Mapping[str, DataFrame],
    published: Mapping[str, DataFrame | None],
    user_metadata: str,
    settings: Silver,
) -> None:
    """Apply each change set to its table, the ledger last (a table being rebuilt is overwritten
    with the change set's upserts). With ``silver.deletion_vectors`` the tables have them, so a
    change marks the rows it replaces instead of rewriting their files. No file written holds more
    than ``silver.rows_per_file`` rows, so a change reads only small files around the rows it
    changes (docs/operations.md#file-sizes); an increment names the rows it replaces by their ids
    where they are at most ``silver.max_replaced_rows`` (docs/operations.md#writes)."""
    with session_conf(spark, {delta_io.MAX_ROWS_PER_FILE: str(settings.rows_per_file)}):
        for name in TABLES:
            _publish_table(spark, t[name], name, changes[name], published[name] is None, user_metadata, settings)


def _publish_table(
    spark: SparkSession, uri: str, name: str, changes: DataFrame, rebuild: bool, user_metadata: str, settings: Silver
) -> None:
    """Overwrite table ``name`` with the change set's upserts (``rebuild``), or apply the change set."""
    props = {DELETION_VECTORS: "true"} if settings.deletion_vectors else {}
    if rebuild:
        upserts = changes.where(~F.col(delta_io.DELETE_FLAG)).select(*COLUMNS[name])
        delta_io.overwrite(upserts, uri, user_metadata=user_metadata, properties=props)
    else:
        delta_io.apply_changes(
            spark,
            changes,
            uri,
            ["review_id"],
            COLUMNS[name],
            user_metadata=user_metadata,
            properties=props,
            max_replaced=settings.max_replaced_rows,
        )
    log.info("published %s", uri)

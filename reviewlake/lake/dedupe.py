"""Stage 3, dedupe: exact and near-duplicate clusters over the dedupe key, one survivor each.

* **Dedupe key**: the cleaned text lower-cased, without punctuation, symbols or whitespace, so
  ``好评！！`` and ``好评。`` are one review (emoji and emotes are already gone after cleaning).
* **Exact**: rows with the same sha-256 of the key; the group's best row is its representative.
* **Near**: MinHash over character n-gram shingles of the key (:mod:`reviewlake.lake.minhash`, numpy in
  an Arrow pandas UDF), banded LSH, candidate pairs verified by exact Jaccard >= threshold, then
  clusters by a connected-components step (union-find on the driver for an edge list of at most
  ``dedupe.local_components_max_edges``, else large-star / small-star on DataFrames).
  Only representatives whose key has at least ``dedupe.near_min_chars`` characters take part:
  near matching of a few characters is noise.
* **Survivor** of a cluster: earliest ``created_at`` (nulls last), then smallest ``review_id``;
  a total order on row content, so the result never depends on partitioning.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from reviewlake.core.spark import HELD
from reviewlake.lake.minhash import LshParams, signatures

log = logging.getLogger(__name__)


def dedupe_key(text: Column) -> Column:
    return F.lower(F.regexp_replace(text, r"[\p{P}\p{S}\s]+", ""))


def order_key() -> Column:
    """Sort key of the survivor rule: earliest created_at (nulls last), then smallest review_id."""
    return F.struct(
        F.col("created_at").isNull().alias("no_time"), F.col("created_at").alias("t"), F.col("review_id").alias("id")
    )


def with_text_hash(df: DataFrame, text_col: str = "text") -> DataFrame:
    """Add ``text_key`` and ``text_hash`` (sha-256 of the key)."""
    return df.withColumn("text_key", dedupe_key(F.col(text_col))).withColumn(
        "text_hash", F.sha2(F.col("text_key"), 256)
    )


def signature_column(key: Column, params: LshParams) -> Column:
    """struct<sig: array<bigint>, shingles: array<bigint>> of the key, one numpy pass per batch."""
    schema = T.StructType(
        [T.StructField("sig", T.ArrayType(T.LongType())), T.StructField("shingles", T.ArrayType(T.LongType()))]
    )

    @F.pandas_udf(schema)
    def _sig(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            sigs, shingles = signatures(batch.tolist(), params)
            yield pd.DataFrame({"sig": sigs, "shingles": shingles})

    return _sig(key)


def band_hashes(sig: Column, params: LshParams) -> Column:
    """``array<bigint>`` of one hash per LSH band (the ``minhash_bands`` of silver)."""
    return F.array(*[F.xxhash64(F.lit(j), F.slice(sig, j * params.rows + 1, params.rows)) for j in range(params.bands)])


def candidate_pairs(banded: DataFrame) -> DataFrame:
    """Distinct (a, b) with a < b sharing at least one band (``banded``: review_id, minhash_bands)."""
    exploded = banded.select("review_id", F.posexplode("minhash_bands").alias("band", "bucket"))
    left, right = exploded.alias("l"), exploded.alias("r")
    return (
        left.join(
            right,
            (F.col("l.band") == F.col("r.band"))
            & (F.col("l.bucket") == F.col("r.bucket"))
            & (F.col("l.review_id") < F.col("r.review_id")),
        )
        .select(F.col("l.review_id").alias("a"), F.col("r.review_id").alias("b"))
        .distinct()
    )


def verify_pairs(pairs: DataFrame, shingles: DataFrame, threshold: float) -> DataFrame:
    """Candidate pairs whose exact Jaccard similarity of shingle sets is >= ``threshold``."""
    s = shingles.select("review_id", "shingles")
    joined = pairs.join(s.withColumnRenamed("review_id", "a").withColumnRenamed("shingles", "sa"), "a").join(
        s.withColumnRenamed("review_id", "b").withColumnRenamed("shingles", "sb"), "b"
    )
    inter = F.size(F.array_intersect("sa", "sb"))
    jac = inter / (F.size("sa") + F.size("sb") - inter)
    return joined.select("a", "b", jac.alias("jaccard")).where(F.col("jaccard") >= threshold)


def components_of(edges: Iterable[tuple[str, str]]) -> dict[str, str]:
    """node -> smallest node of its connected component, for every node of an undirected edge
    list (union-find with path compression; the smaller root always stays the root)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in edges:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def _normalised(pairs: DataFrame, a: str = "a", b: str = "b") -> DataFrame:
    """Undirected edges as (smaller, larger) node ids, loops and repeats dropped."""
    return (
        pairs.select(F.least(a, b).alias("a"), F.greatest(a, b).alias("b")).where(F.col("a") != F.col("b")).distinct()
    )


def _star_round(e: DataFrame) -> DataFrame:
    """One large-star then small-star round over the edges ``e`` (checkpointed: the plan of round
    i would otherwise contain round i-1's several times over and grow exponentially)."""
    both = e.unionByName(e.select(F.col("b").alias("a"), F.col("a").alias("b")))
    # large star: connect every larger neighbour of u to the minimum of u's neighbourhood
    m = both.groupBy("a").agg(F.least(F.min("b"), F.first("a")).alias("m"))
    large = _normalised(
        both.join(m, "a").where(F.col("b") > F.col("a")).select(F.col("b").alias("a"), F.col("m").alias("b"))
    )
    # small star: connect u and its smaller neighbours to the minimum of those
    both2 = large.unionByName(large.select(F.col("b").alias("a"), F.col("a").alias("b")))
    smaller = both2.where(F.col("b") < F.col("a"))
    m2 = smaller.groupBy("a").agg(F.min("b").alias("m"))
    small = smaller.join(m2, "a").select(F.col("b").alias("x"), "m").unionByName(m2.select(F.col("a").alias("x"), "m"))
    return _normalised(small, "x", "m").localCheckpoint()


def connected_components(edges: DataFrame, max_iterations: int = 50, local_max_edges: int = 0) -> DataFrame:
    """(node, component) for every node of an undirected edge list (columns a, b); the component
    id is the smallest node id in it.

    An edge list of at most ``local_max_edges`` distinct edges (an increment's, or a small
    corpus') is collected and solved on the driver by :func:`components_of`: one Spark action
    instead of a few per round. A larger one is solved in Spark by large-star / small-star
    (Kiveris et al., 2014): each round is a few joins/aggregations; it converges in O(log n)
    rounds to stars around the minimum."""
    spark = edges.sparkSession
    # persisted: counted, then collected or read by the rounds. (A count, not a limit-collect
    # probe: Spark runs a limit as a series of growing jobs, each re-planning every shuffle.)
    e = _normalised(edges).persist(HELD)
    n_edges = e.count()
    if n_edges == 0 or n_edges <= local_max_edges:
        found = components_of((r["a"], r["b"]) for r in e.collect()) if n_edges else {}
        e.unpersist()
        return spark.createDataFrame(sorted(found.items()), "node string, component string")
    e = e.localCheckpoint()
    for i in range(max_iterations):
        new = _star_round(e)
        changed = new.exceptAll(e).limit(1).count() + e.exceptAll(new).limit(1).count()
        e = new
        if changed == 0:
            log.info("connected components converged after %d rounds", i + 1)
            break
    else:
        raise RuntimeError(f"connected components did not converge in {max_iterations} rounds")
    # converged: every edge joins a component's minimum (a) to a member (b)
    return (
        e.select(F.col("b").alias("node"), F.col("a").alias("component"))
        .unionByName(e.select(F.col("a").alias("node"), F.col("a").alias("component")))
        .distinct()
    )


def near_edges(
    reps: DataFrame, params: LshParams, threshold: float, near_min_chars: int
) -> tuple[DataFrame, DataFrame]:
    """(verified near-duplicate edges a, b, jaccard; the band hashes of the eligible reps) among
    ``reps`` (review_id, text_key[, text_hash]) whose key has at least ``near_min_chars``
    characters. The band frame holds review_id, minhash_bands and text_hash when given."""
    keep = [c for c in ("review_id", "text_hash") if c in reps.columns]
    eligible = (
        reps.where(F.length("text_key") >= near_min_chars)
        .withColumn("_s", signature_column(F.col("text_key"), params))
        .select(
            *keep, F.col("_s.shingles").alias("shingles"), band_hashes(F.col("_s.sig"), params).alias("minhash_bands")
        )
        .persist(HELD)
    )
    edges = verify_pairs(candidate_pairs(eligible), eligible, threshold)
    return edges, eligible.select(*keep, "minhash_bands")


def assign_clusters(
    df: DataFrame, params: LshParams, threshold: float, near_min_chars: int, near: bool = True, local_max_edges: int = 0
) -> DataFrame:
    """Add ``dup_cluster_id`` (= survivor's review_id), ``survivor_id``, ``outcome``
    (kept / exact_duplicate / near_duplicate) and ``minhash_bands`` (the bands of the row's key;
    null for keys too short to take part in near matching). ``df`` needs review_id, created_at, text_key, text_hash.
    Intermediate frames read several times are persisted and left cached: the caller holds the
    result and then clears the session's cache (:func:`reviewlake.lake.silver.plan_changes`)."""
    ranked = df.withColumn("_rank", F.row_number().over(Window.partitionBy("text_hash").orderBy(order_key())))
    reps = ranked.where("_rank = 1").select("review_id", "text_hash", "text_key", "created_at")
    if near:
        edges, bands = near_edges(reps, params, threshold, near_min_chars)
        comps = connected_components(edges, local_max_edges=local_max_edges)
    else:
        comps = df.sparkSession.createDataFrame([], "node string, component string")
        bands = df.sparkSession.createDataFrame([], "review_id string, text_hash string, minhash_bands array<bigint>")
    # persisted: read three times below (survivors, their hashes, the rep -> survivor map)
    rep_comp = (
        reps.join(comps.withColumnRenamed("node", "review_id"), "review_id", "left")
        .withColumn("component", F.coalesce("component", "review_id"))
        .persist(HELD)
    )
    survivors = (
        rep_comp.groupBy("component")
        .agg(F.min(order_key()).alias("_best"))
        .select("component", F.col("_best.id").alias("survivor_id"))
    )
    rep_map = rep_comp.join(survivors, "component").select("text_hash", "survivor_id")
    surv_hash = rep_comp.select(F.col("review_id").alias("survivor_id"), F.col("text_hash").alias("_surv_hash"))
    return (
        ranked.drop("_rank")
        .join(rep_map, "text_hash")
        .join(surv_hash, "survivor_id")
        .join(bands.drop("review_id"), "text_hash", "left")
        .withColumn("dup_cluster_id", F.col("survivor_id"))
        .withColumn(
            "outcome",
            F.when(F.col("review_id") == F.col("survivor_id"), "kept")
            .when(F.col("text_hash") == F.col("_surv_hash"), "exact_duplicate")
            .otherwise("near_duplicate"),
        )
        .drop("_surv_hash")
    )


def resolve_labels(clustered: DataFrame, policy: str) -> DataFrame:
    """Resolve label conflicts inside each cluster; adds ``label_conflict`` (bool) and replaces
    ``label`` on every row by the cluster's label under ``policy``:
    ``majority`` (most frequent label; a tie goes to the survivor's label), ``survivor`` (the
    survivor's own label) or ``drop`` (label becomes null and ``label_conflict`` marks the
    cluster for removal by the caller)."""
    if policy not in ("majority", "survivor", "drop"):
        raise ValueError(f"dedupe.label_conflict_policy must be majority, survivor or drop, not {policy!r}")
    counts = clustered.where(F.col("label").isNotNull()).groupBy("dup_cluster_id", "label").count()
    surv_label = clustered.where(F.col("outcome") == "kept").select("dup_cluster_id", F.col("label").alias("_sl"))
    per_cluster = (
        counts.join(surv_label, "dup_cluster_id", "left")
        .groupBy("dup_cluster_id")
        .agg(
            (F.countDistinct("label") > 1).alias("label_conflict"),
            F.max(F.struct(F.col("count"), (F.col("label") == F.col("_sl")).cast("int"), F.col("label"))).alias("_top"),
            F.first("_sl").alias("_sl"),
        )
    )
    resolved = {
        "majority": F.col("_top.label"),
        "survivor": F.col("_sl"),
        "drop": F.when(F.col("label_conflict"), F.lit(None).cast("string")).otherwise(F.col("_top.label")),
    }[policy]
    return (
        clustered.join(
            per_cluster.select("dup_cluster_id", "label_conflict", resolved.alias("_label")), "dup_cluster_id", "left"
        )
        .withColumn("label", F.col("_label"))
        .drop("_label")
        .withColumn("label_conflict", F.coalesce("label_conflict", F.lit(False)))
    )

"""What an incremental run looks at: which landing files need hashing, which bronze rows are new,
and whether bronze lost rows since silver was built."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from pyspark.sql import functions as F

from reviewlake.core import delta_io
from reviewlake.core.config import load_config
from reviewlake.core.spark import held_and_counted
from reviewlake.lake import file_log, incremental, ingest, silver
from reviewlake.lake.ingest_parse import ReadOptions


def test_latest_entries_keep_each_paths_last_entry_less_the_redone():
    t1, t2 = datetime(2026, 1, 1), datetime(2026, 1, 2)
    rows = [
        ("a", 1, 10, "h1", "b1", t1),
        ("a", 2, 20, "h2", "b2", t2),
        ("b", 5, 10, "h3", "b1", t1),
        ("c", 1, 10, "h4", "b1", t1),
    ]
    assert file_log.latest_entries(rows, exclude={"c"}) == {"a": (2, 20, "h2"), "b": (5, 10, "h3")}


def test_a_file_that_could_not_be_read_counts_as_never_seen():
    """Its log rows have no hash: the next run hashes and ingests it, as if new."""
    t1, t2 = datetime(2026, 1, 1), datetime(2026, 1, 2)
    rows = [("a", 1, 10, "h1", "b1", t1), ("a", 9, 30, None, "b2", t2), ("big", 5, 10, None, "b2", t2)]
    latest = file_log.latest_entries(rows)
    assert latest == {"a": (1, 10, "h1")}
    assert file_log.stat_changed([("a", 9, 30), ("big", 5, 10)], latest) == [("a", 9, 30), ("big", 5, 10)]


def read_options(**ingest) -> ReadOptions:
    """The default read options with some ``ingest`` settings changed."""
    defaults = ReadOptions.of(load_config(site=False))
    return dataclasses.replace(defaults, ingest=dataclasses.replace(defaults.ingest, **ingest))


def test_large_line_and_parquet_files_are_read_in_pieces_and_other_files_over_the_read_limit_set_aside():
    files = [
        ("a.jsonl", 10, 1),
        ("b.csv", 11, 1),
        ("c.txt", 0, 1),
        ("d.jsonl.gz", 11, 1),
        ("e.txt", 5, 1),
        ("f.jsonl.zst", 11, 1),
        ("g.parquet", 5, 1),
        ("h.parquet", 9, 1),
        ("i.parquet.gz", 11, 1),
    ]
    whole, in_pieces, too_large = ingest.plan_reads(files, read_options(split_min_bytes=8), limit=10)
    assert whole == [("c.txt", 0, 1), ("e.txt", 5, 1), ("g.parquet", 5, 1)]
    assert in_pieces == [("a.jsonl", 10, 1), ("d.jsonl.gz", 11, 1), ("h.parquet", 9, 1)]
    assert too_large == [("b.csv", 11, 1), ("f.jsonl.zst", 11, 1), ("i.parquet.gz", 11, 1)]
    assert ingest.plan_reads(files, read_options(split_min_bytes=8, format="csv"), limit=10)[1] == []
    no_newlines = read_options(split_min_bytes=8, csv_quoted_newlines=False)  # then CSV is read by lines too
    assert ingest.plan_reads(files, no_newlines, limit=10)[1] == [
        ("a.jsonl", 10, 1),
        ("b.csv", 11, 1),
        ("d.jsonl.gz", 11, 1),
        ("h.parquet", 9, 1),
    ]


def test_only_files_with_new_size_or_mtime_are_hashed():
    latest = {"a": (10, 1000, "h"), "b": (10, 1000, "h"), "c": (10, 1000, "h")}
    listed = [("a", 10, 1000), ("b", 11, 1000), ("c", 10, 1001), ("d", 10, 1000)]
    assert file_log.stat_changed(listed, latest) == [("b", 11, 1000), ("c", 10, 1001), ("d", 10, 1000)]
    assert file_log.stat_changed(listed, {}) == listed


def test_a_touched_file_with_the_same_content_is_not_unseen():
    latest = {"a": (10, 1000, "h1"), "b": (10, 1000, "h2")}
    inventory = [
        {"source_file": "a", "content_hash": "h1"},
        {"source_file": "b", "content_hash": "h9"},
        {"source_file": "c", "content_hash": "h3"},
    ]
    assert [r["source_file"] for r in file_log.unseen(inventory, latest)] == ["b", "c"]


def test_the_file_log_comes_back_with_ms_mtimes(spark):
    t = datetime(2026, 1, 1, 0, 0, 0, 123000)
    log = spark.createDataFrame(
        [("a", 10, t, "h", "b1", t)],
        "source_file string, size long, mtime timestamp, content_hash string, batch_id string, ingested_at timestamp",
    )
    ms = spark.createDataFrame([(t,)], "t timestamp").select(F.unix_millis("t")).first()[0]
    assert [tuple(r)[:5] for r in file_log.log_entries(log)] == [("a", 10, ms, "h", "b1")]


def test_new_rows_are_those_of_batches_the_ledger_has_not_seen(spark):
    bronze = spark.createDataFrame(
        [("r1", "b1"), ("r2", "b1"), ("r3", "b2"), ("r1x", "b3")], "review_id string, batch_id string"
    )
    ledger = spark.createDataFrame([("r1", "b1"), ("r2", "b1")], "review_id string, batch_id string")
    assert sorted(r[0] for r in incremental.new_rows(bronze, ledger).collect()) == ["r1x", "r3"]
    assert incremental.new_rows(bronze, None).count() == 4


def test_removed_rows_since_sees_deleting_merges_only(spark, tmp_path):
    uri = f"file:{tmp_path / 't'}"
    df = lambda rows: spark.createDataFrame(rows, "k string, f string")  # noqa: E731
    delta_io.merge(spark, df([("1", "x"), ("2", "x"), ("3", "y")]), uri, ["k"])
    delta_io.merge(spark, df([("3", "y2"), ("4", "y")]), uri, ["k"])  # update + insert
    assert not delta_io.removed_rows_since(spark, uri, 0)
    delta_io.merge(spark, df([("1", "x")]), uri, ["k"], delete_unmatched=F.col("t.f") == "x")  # drops k=2
    assert delta_io.removed_rows_since(spark, uri, 1)
    assert not delta_io.removed_rows_since(spark, uri, 2)


def test_changes_since_name_the_batches_their_commits_wrote(spark, tmp_path):
    uri = f"file:{tmp_path / 't'}"
    rows = spark.createDataFrame([("a", 1)], "k string, v int")
    delta_io.merge(spark, rows, uri, ["k"], user_metadata=delta_io.commit_metadata(batch_id="b1"))
    delta_io.merge(
        spark, rows.withColumn("k", F.lit("b")), uri, ["k"], user_metadata=delta_io.commit_metadata(batch_id="b2")
    )
    assert delta_io.changes_since(spark, uri, 0) == delta_io.ChangesSince(removed=False, batches=("b2",))
    delta_io.merge(spark, rows.withColumn("k", F.lit("c")), uri, ["k"])  # a commit that names no batch
    assert delta_io.changes_since(spark, uri, 0).batches is None
    assert delta_io.changes_since(spark, uri, 1) == delta_io.ChangesSince(removed=False, batches=None)
    assert delta_io.changes_since(spark, uri, 2) == delta_io.ChangesSince(removed=False, batches=())


def test_the_population_joins_the_index_with_the_touched_ids_and_affected_clusters_by_broadcast(spark, make_cfg):
    """Touched ids whose plan the optimizer sizes at gigabytes (here a filtered range; in a run, a
    filter on bronze) but which hold a few rows are joined with the index by broadcast, not by a
    sort-merge join that shuffles every index row."""
    from tests.unit.test_dedupe_local import population as candidates_of

    settings = make_cfg().dedupe
    candidates = held_and_counted(candidates_of(spark, make_cfg))  # as the job holds its cleaned rows
    index = silver.cluster(candidates, settings).select(*incremental.INDEX_COLUMNS).localCheckpoint()
    touched = spark.range(10**10).where(F.col("id") < 2).select(F.concat(F.lit("new"), "id").alias("review_id"))
    assert touched._jdf.queryExecution().optimizedPlan().stats().sizeInBytes() > 2**33  # sized at > 8 GB
    pop = silver.population(index, touched, candidates, settings)
    plan = pop._jdf.queryExecution().executedPlan().toString()
    try:
        assert "SortMergeJoin" not in plan, plan
        assert re.search(r"BroadcastHashJoin \[review_id#\d+\], \[review_id#\d+\], LeftAnti", plan), plan
    finally:
        for df in (pop, touched, candidates):
            df.unpersist()


def test_the_affected_clusters_are_those_a_touched_id_an_exact_key_or_a_band_bucket_reaches(spark, make_cfg):
    from reviewlake.lake import dedupe

    settings = make_cfg().dedupe
    params = silver.lsh_params(settings)
    near_text, same_text = "这款手机的屏幕非常清晰电池也很耐用推荐大家购买", "物流很快包装完好"
    keyed = dedupe.with_text_hash(
        spark.createDataFrame([("new1", near_text), ("new2", same_text)], "review_id string, text string")
    )
    candidates = keyed.withColumn(
        "minhash_bands", dedupe.band_hashes(dedupe.signature_column(F.col("text_key"), params).sig, params)
    ).localCheckpoint()
    near_bands, same_hash = (candidates.orderBy("review_id").collect()[i] for i in (0, 1))
    schema = "review_id string, text_hash string, dup_cluster_id string, outcome string, minhash_bands array<bigint>"
    index = spark.createDataFrame(
        [
            ("r1", "h1", "by_id", "kept", [1, 2]),  # its id is touched
            ("r2", same_hash["text_hash"], "by_key", "kept", [3, 4]),  # the exact key of new2
            ("r3", "h3", "by_band", "near_duplicate", list(near_bands["minhash_bands"])),  # new1's buckets
            ("r4", "h4", "by_band", "kept", None),  # a row of that cluster with no bands (a short key)
            ("r5", "h5", "untouched", "kept", [5, 6]),
            ("r6", "h6", "untouched", "kept", None),
        ],
        schema,
    )
    touched = spark.createDataFrame([("r1",), ("new1",), ("new2",)], "review_id string")

    def affected(near: bool) -> set[str]:
        found = incremental.affected_clusters(index, touched, candidates, params, settings.near_min_chars, near)
        return {r[0] for r in found.collect()}

    assert affected(near=True) == {"by_id", "by_key", "by_band"}
    # the index is read once: one semi join of its probe keys, not one per kind (id, key, band)
    found = incremental.affected_clusters(index, touched, candidates, params, settings.near_min_chars)
    assert found._jdf.queryExecution().executedPlan().toString().count("LeftSemi") == 1
    assert affected(near=False) == {"by_id", "by_key"}

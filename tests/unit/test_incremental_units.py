"""What an incremental run looks at: which landing files need hashing, which bronze rows are new,
and whether bronze lost rows since silver was built."""
from __future__ import annotations

from datetime import datetime

from chispa import assert_df_equality
from pyspark.sql import functions as F

from pipelines import incremental, ingest
from pipelines.core import delta_io

LOG_SCHEMA = "source_file string, size long, mtime timestamp, content_hash string, batch_id string, ingested_at timestamp"


def file_log(spark, rows):
    return spark.createDataFrame(rows, LOG_SCHEMA)


def test_latest_files_keeps_each_paths_last_entry(spark):
    log = file_log(spark, [
        ("a", 1, datetime(2026, 1, 1), "h1", "b1", datetime(2026, 1, 1)),
        ("a", 2, datetime(2026, 1, 2), "h2", "b2", datetime(2026, 1, 2)),
        ("b", 5, datetime(2026, 1, 1), "h3", "b1", datetime(2026, 1, 1)),
    ])
    expected = spark.createDataFrame([("a", 2, datetime(2026, 1, 2), "h2"), ("b", 5, datetime(2026, 1, 1), "h3")],
                                     "source_file string, size long, mtime timestamp, content_hash string")
    assert_df_equality(ingest.latest_files(log), expected, ignore_row_order=True, ignore_nullable=True)


def test_only_files_with_new_size_or_mtime_are_hashed(spark):
    t = datetime(2026, 1, 1)
    ms = int(spark.createDataFrame([(t,)], "t timestamp").select(F.unix_millis("t")).first()[0])
    latest = ingest.latest_files(file_log(spark, [("a", 10, t, "h", "b1", t), ("b", 10, t, "h", "b1", t),
                                                  ("c", 10, t, "h", "b1", t)]))
    listed = [("a", 10, ms), ("b", 11, ms), ("c", 10, ms + 1), ("d", 10, ms)]
    assert ingest.stat_changed(listed, latest) == [("b", 11, ms), ("c", 10, ms + 1), ("d", 10, ms)]
    assert ingest.stat_changed(listed, None) == listed


def test_a_touched_file_with_the_same_content_is_not_unseen(spark):
    t = datetime(2026, 1, 1)
    latest = ingest.latest_files(file_log(spark, [("a", 10, t, "h1", "b1", t), ("b", 10, t, "h2", "b1", t)]))
    inventory = spark.createDataFrame([("a", 10, t, "h1"), ("b", 10, t, "h9"), ("c", 3, t, "h3")],
                                      "source_file string, size long, mtime timestamp, content_hash string")
    assert sorted(r[0] for r in ingest.unseen_files(inventory, latest).collect()) == ["b", "c"]


def test_new_rows_are_those_of_batches_the_ledger_has_not_seen(spark):
    bronze = spark.createDataFrame([("r1", "b1"), ("r2", "b1"), ("r3", "b2"), ("r1x", "b3")], "review_id string, batch_id string")
    ledger = spark.createDataFrame([("r1", "b1"), ("r2", "b1")], "review_id string, batch_id string")
    assert sorted(r[0] for r in incremental.new_rows(bronze, ledger).collect()) == ["r1x", "r3"]
    assert incremental.new_rows(bronze, None).count() == 4


def test_removed_rows_since_sees_deleting_merges_only(spark, tmp_path):
    uri = f"file:{tmp_path / 't'}"
    df = lambda rows: spark.createDataFrame(rows, "k string, f string")  # noqa: E731
    delta_io.merge(spark, df([("1", "x"), ("2", "x"), ("3", "y")]), uri, ["k"])
    delta_io.merge(spark, df([("3", "y2"), ("4", "y")]), uri, ["k"])        # update + insert
    assert not delta_io.removed_rows_since(spark, uri, 0)
    delta_io.merge(spark, df([("1", "x")]), uri, ["k"], delete_unmatched=F.col("t.f") == "x")  # drops k=2
    assert delta_io.removed_rows_since(spark, uri, 1)
    assert not delta_io.removed_rows_since(spark, uri, 2)

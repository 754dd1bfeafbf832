"""delta_io.apply_changes on a small Delta table (real Spark and Delta): a change set's rows are
compared with their published versions by ``row_hash``, so only rows whose content changed are
rewritten, and applying a change set again rewrites nothing."""

from __future__ import annotations

from pyspark.sql import functions as F

from reviewlake.core import delta_io

SCHEMA = "review_id string, survivor_id string, detail string"
COLUMNS = ("review_id", "survivor_id", "detail", delta_io.ROW_HASH)


def change_set(spark, rows, deletes=()):
    upserts = delta_io.with_row_hash(spark.createDataFrame(rows, SCHEMA), ["review_id"])
    gone = spark.createDataFrame([(i, None, None) for i in deletes], SCHEMA).withColumn(
        delta_io.ROW_HASH, F.lit(None).cast("long")
    )
    return upserts.withColumn(delta_io.DELETE_FLAG, F.lit(False)).unionByName(
        gone.withColumn(delta_io.DELETE_FLAG, F.lit(True))
    )


def apply(spark, changes, uri) -> dict:
    delta_io.apply_changes(spark, changes, uri, ["review_id"], COLUMNS)
    return delta_io.history(spark, uri, 1)[0]["operationMetrics"]


def test_row_hash_tells_where_a_null_is(spark):
    rows = spark.createDataFrame([("a", None, "x"), ("b", "x", None), ("c", "x", None)], SCHEMA)
    hashes = {r.review_id: r.row_hash for r in delta_io.with_row_hash(rows, ["review_id"]).collect()}
    assert hashes["a"] != hashes["b"]
    assert hashes["b"] == hashes["c"]  # the key is not hashed


def test_only_changed_rows_are_rewritten_and_a_second_application_rewrites_nothing(spark, tmp_path):
    uri = str(tmp_path / "t")
    published = [("a", None, "x"), ("b", "a", None), ("c", None, None)]
    delta_io.apply_changes(spark, change_set(spark, published), uri, ["review_id"], COLUMNS)

    changes = change_set(spark, [("a", None, "x"), ("b", None, "a"), ("d", "a", None)], deletes=["c"])
    metrics = apply(spark, changes, uri)
    assert (metrics["numTargetRowsUpdated"], metrics["numTargetRowsInserted"]) == ("1", "1")
    assert metrics["numTargetRowsDeleted"] == "1"
    table = {tuple(r)[:3] for r in delta_io.read(spark, uri).collect()}
    assert table == {("a", None, "x"), ("b", None, "a"), ("d", "a", None)}

    again = apply(spark, changes, uri)
    assert (again["numTargetRowsUpdated"], again["numTargetRowsInserted"], again["numTargetRowsDeleted"]) == (
        "0",
        "0",
        "0",
    )


def test_rows_are_compared_by_their_hash_alone(spark, tmp_path):
    uri = str(tmp_path / "t")
    delta_io.apply_changes(spark, change_set(spark, [("a", None, "x")]), uri, ["review_id"], COLUMNS)
    same_hash = change_set(spark, [("a", None, "y")]).withColumn(
        delta_io.ROW_HASH, F.lit(delta_io.read(spark, uri).first()[delta_io.ROW_HASH])
    )
    assert apply(spark, same_hash, uri)["numTargetRowsUpdated"] == "0"

"""delta_io.apply_changes on a small Delta table (real Spark and Delta): a change set's rows are
compared with their published versions by ``row_hash``, so only rows whose content changed are
written; the published rows it replaces or deletes are named in the commit's predicate and marked
by deletion vectors (a MERGE above ``max_replaced`` of them); applying it again writes nothing."""

from __future__ import annotations

from pyspark.sql import functions as F

from bench.speed.scale import commit_rows
from reviewlake.core import delta_io, spark_work

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


DVS = {"delta.enableDeletionVectors": "true"}


def apply(spark, changes, uri, max_replaced=10, properties=DVS) -> dict:
    delta_io.apply_changes(
        spark, changes, uri, ["review_id"], COLUMNS, properties=properties, max_replaced=max_replaced
    )
    return delta_io.history(spark, uri, 1)[0]


def content(spark, uri) -> set:
    return {tuple(r)[:3] for r in delta_io.read(spark, uri).collect()}


def test_row_hash_tells_where_a_null_is(spark):
    rows = spark.createDataFrame([("a", None, "x"), ("b", "x", None), ("c", "x", None)], SCHEMA)
    hashes = {r.review_id: r.row_hash for r in delta_io.with_row_hash(rows, ["review_id"]).collect()}
    assert hashes["a"] != hashes["b"]
    assert hashes["b"] == hashes["c"]  # the key is not hashed


PUBLISHED = [("a", None, "x"), ("b'", "a", None), ("c", None, None)]
CHANGED = [("a", None, "x"), ("b'", None, "a"), ("d", "a", None)]
AFTER = {("a", None, "x"), ("b'", None, "a"), ("d", "a", None)}


def test_the_rows_replaced_or_deleted_are_named_and_marked_and_a_second_application_writes_nothing(spark, tmp_path):
    uri = str(tmp_path / "t")
    apply(spark, change_set(spark, PUBLISHED).coalesce(1), uri)  # one file

    commit = apply(spark, change_set(spark, CHANGED, deletes=["c", "never-published"]), uri)
    # a is unchanged and d new: only b' (changed) and c (deleted) are removed, by name, quotes escaped
    assert commit["operationParameters"]["predicate"] == "`review_id` IN ('b\\'', 'c')"
    metrics = spark_work.commit_metrics(spark, uri, commit["version"])
    assert metrics["numDeletedRows"] == 2
    # a stays in its file, which a deletion vector now marks: written are b' and d, nothing copied
    # (Delta's numCopiedRows counts a, the row of the file it re-added with the vector)
    assert (metrics["rowsInNewFiles"], metrics["numCopiedRows"]) == (2, 1)
    assert commit_rows(metrics) == (0, 4)  # (copied; b' and d written, b' and c deleted)
    assert content(spark, uri) == AFTER

    again = apply(spark, change_set(spark, CHANGED, deletes=["c", "never-published"]), uri)
    assert again["version"] == commit["version"]  # nothing to write: no commit
    assert content(spark, uri) == AFTER


def test_without_deletion_vectors_the_other_rows_of_a_file_are_copied(spark, tmp_path):
    uri = str(tmp_path / "t")
    apply(spark, change_set(spark, PUBLISHED).coalesce(1), uri, properties={})
    commit = apply(spark, change_set(spark, CHANGED, deletes=["c"]), uri, properties={})
    metrics = spark_work.commit_metrics(spark, uri, commit["version"])
    assert (metrics["rowsInNewFiles"], commit_rows(metrics)) == (3, (1, 4))  # a copied with b' and d
    assert content(spark, uri) == AFTER


def test_more_replaced_rows_than_the_bound_are_merged_to_the_same_table(spark, tmp_path):
    uri = str(tmp_path / "t")
    apply(spark, change_set(spark, PUBLISHED), uri)
    commit = apply(spark, change_set(spark, CHANGED, deletes=["c"]), uri, max_replaced=1)
    assert commit["operation"] == "MERGE"
    metrics = commit["operationMetrics"]
    assert (metrics["numTargetRowsUpdated"], metrics["numTargetRowsInserted"]) == ("1", "1")
    assert metrics["numTargetRowsDeleted"] == "1"
    assert content(spark, uri) == AFTER


def test_rows_are_compared_by_their_hash_alone(spark, tmp_path):
    uri = str(tmp_path / "t")
    first = apply(spark, change_set(spark, [("a", None, "x")]), uri)
    same_hash = change_set(spark, [("a", None, "y")]).withColumn(
        delta_io.ROW_HASH, F.lit(delta_io.read(spark, uri).first()[delta_io.ROW_HASH])
    )
    assert apply(spark, same_hash, uri)["version"] == first["version"]  # nothing written


def executed_plans(spark, since: int = 0) -> list[str]:
    """The physical plans of the session's SQL executions from the ``since``-th on (Spark's UI store)."""
    executions = spark._jsparkSession.sharedState().statusStore().executionsList()
    return [executions.apply(i).physicalPlanDescription() for i in range(since, executions.size())]


def test_the_change_set_is_compared_with_the_published_keys_by_broadcast(spark, tmp_path):
    """The published table's keys are read once and not shuffled: the change set's keys, held and
    counted, are broadcast to a semi join (planned on the change set's estimate, the comparison was
    a sort-merge join that shuffled every published key)."""
    uri = str(tmp_path / "t")
    apply(spark, change_set(spark, [(f"r{i}", None, "x") for i in range(200)]), uri)
    # held as the job holds its change sets: a local checkpoint, which the optimizer sizes at 8 EiB
    changes = change_set(spark, CHANGED, deletes=["r1"]).localCheckpoint()
    before = len(executed_plans(spark))
    apply(spark, changes, uri)
    plans = [p for p in executed_plans(spark, before) if "_published_hash" in p]
    assert plans and all("SortMergeJoin LeftSemi" not in p for p in plans), plans
    assert any("BroadcastHashJoin LeftSemi" in p for p in plans), plans

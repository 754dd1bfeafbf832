"""Table maintenance, history and rollback on small Delta tables with several versions, through
the entry points (real Spark and Delta): OPTIMIZE compacts and keeps the rows, Z-order is not
redone on an unchanged table, VACUUM keeps what the retention keeps, RESTORE brings back an older
version's rows; all of it under the writer job's run lock. Also the lock on a Hadoop filesystem."""

from __future__ import annotations

import json
import os
import time

import pytest
from chispa import assert_df_equality

from reviewlake.core import delta_io, tables
from reviewlake.core.job import RunContext
from reviewlake.core.lock import HadoopStore, LocalStore, Owner, acquire, lock_uri, release
from reviewlake.core.uris import local_path, to_uri
from reviewlake.errors import ConfigError, LockHeldError
from reviewlake.jobs import history, maintain, rollback
from reviewlake.lake import maintenance
from tests.integration.helpers import rows_by_spark_and

SCHEMA = "review_id string, batch_id string, text string"


def write(spark, uri: str, rows, mode: str = "append", files: int = 4, batch: int = 0) -> None:
    (
        spark.createDataFrame(rows, SCHEMA)
        .repartition(files)
        .write.format("delta")
        .mode(mode)
        .option("userMetadata", json.dumps({"batch": batch}))
        .save(uri)
    )


def batch_rows(b: int, n: int = 40):
    return [(f"r{b}-{i}", f"b{b}", f"好评 {b} {i}") for i in range(n)]


def read(spark, uri, version=None):
    return delta_io.read(spark, uri, version)


def active_files(spark, uri) -> int:
    from delta.tables import DeltaTable

    return DeltaTable.forPath(spark, uri).detail().first()["numFiles"]


@pytest.fixture
def lake(spark, make_cfg, tmp_path):
    """silver/reviews: 3 appended batches (12 small files); gold/predictions: 2 appends (8 files)."""
    cfg = make_cfg("maintenance.vacuum=false")
    silver, gold = tables.under(cfg, "silver/reviews"), tables.under(cfg, "gold/predictions")
    for b in range(3):
        write(spark, silver, batch_rows(b), batch=b)
    for b in range(2):
        (
            spark.createDataFrame(
                [(f"r0-{i}", f"m{b}", 0.5) for i in range(30)], "review_id string, model_version string, p double"
            )
            .repartition(4)
            .write.format("delta")
            .mode("append")
            .save(gold)
        )
    args = [
        "--lakehouse",
        str(tmp_path / "lakehouse"),
        "--conf",
        f"reports_dir={tmp_path / 'reports'}",
        "--conf",
        "maintenance.vacuum=false",
    ]
    return cfg, silver, gold, args


def maintain_now(cfg, names):
    """``maintenance.run`` as the maintain job runs it (its report written when it ends)."""
    with RunContext("maintain", cfg) as ctx:
        return maintenance.run(ctx, names)


def test_maintain_compacts_keeps_rows_and_waits_for_busy_writers(spark, lake, capsys):
    cfg, silver, gold, args = lake
    silver_before, gold_before = read(spark, silver), read(spark, gold)
    silver_rows, gold_rows = silver_before.collect(), gold_before.collect()
    assert active_files(spark, silver) == 12 and active_files(spark, gold) == 8
    silver_version = delta_io.version(spark, silver)

    # clean_reviews is "running": silver is skipped (exit 5), gold is maintained all the same
    holder = Owner("clean_reviews", "elsewhere", 1, "nightly-7", time.time())
    LocalStore().create(lock_uri(cfg, "clean_reviews"), holder.to_bytes())
    assert maintain.main(args) == 5
    assert "skipped while their writer job runs: silver/reviews" in capsys.readouterr().err
    assert delta_io.version(spark, silver) == silver_version
    assert active_files(spark, gold) < 8
    assert_df_equality(read(spark, gold), spark.createDataFrame(gold_rows, gold_before.schema), ignore_row_order=True)
    LocalStore().delete(lock_uri(cfg, "clean_reviews"))

    assert maintain.main(args) == 0
    assert active_files(spark, silver) < 12
    assert_df_equality(
        read(spark, silver), spark.createDataFrame(silver_rows, silver_before.schema), ignore_row_order=True
    )
    last = delta_io.history(spark, silver, 1)[0]
    assert last["operation"] == "OPTIMIZE" and json.loads(last["operationParameters"]["zOrderBy"]) == ["batch_id"]
    report = json.loads((local_path(to_uri(cfg.reports_dir)) / "runs" / "maintain" / "latest.json").read_text())
    assert {s["name"] for s in report["stages"]} == {"silver/reviews", "gold/predictions"}

    # nothing changed since: Z-order is not redone, no new version
    version = delta_io.version(spark, silver)
    assert maintain.main([*args, "--table", "silver/reviews"]) == 0
    assert delta_io.version(spark, silver) == version


def test_optimize_keeps_silver_files_to_the_bytes_of_rows_per_file(spark, make_cfg):
    """Compaction of a silver table stops at the bytes of ``silver.rows_per_file`` of its rows (an
    increment's MERGE reads every file holding a row it changes); a gold table's goes to 1 GiB."""
    cfg = make_cfg("maintenance.vacuum=false", "maintenance.zorder={}", "silver.rows_per_file=30")
    silver, gold = tables.under(cfg, "silver/reviews"), tables.under(cfg, "gold/predictions")
    for b in range(3):
        write(spark, silver, batch_rows(b), files=8, batch=b)
        write(spark, gold, batch_rows(b), files=8, batch=b)
    rows = read(spark, silver).collect()
    results = {r.name: r for r in maintain_now(cfg, ["silver/reviews", "gold/predictions"])}
    assert results["gold/predictions"].files_after == 1
    assert 24 > results["silver/reviews"].files_after >= 120 // 30
    assert sorted(read(spark, silver).collect()) == sorted(rows)


def test_maintain_drops_deletion_vectors_so_delta_rs_can_read(spark, make_cfg):
    """A silver table with deletion vectors is unreadable by delta-rs' to_pyarrow_table (its
    QueryBuilder reads it); once silver.deletion_vectors is false, maintenance drops the feature
    and the rows stay the same."""
    from deltalake import DeltaTable as RsTable
    from deltalake.exceptions import DeltaProtocolError

    cfg = make_cfg("maintenance.vacuum=false", "maintenance.optimize=false", "silver.deletion_vectors=false")
    uri = tables.under(cfg, "silver/reviews")
    spark.sql(
        f"CREATE TABLE delta.`{uri}` ({SCHEMA}) USING delta TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')"
    )
    write(spark, uri, batch_rows(0), files=2)
    spark.sql(f"DELETE FROM delta.`{uri}` WHERE review_id = 'r0-3'")  # a deletion vector, no rewrite
    assert delta_io.history(spark, uri, 1)[0]["operationMetrics"]["numDeletionVectorsAdded"] != "0"
    with pytest.raises(DeltaProtocolError, match="deletionVectors"):
        RsTable(uri).to_pyarrow_table()

    [result] = maintain_now(cfg, ["silver/reviews"])
    assert result.detail["dropped_feature"] == "deletionVectors"
    by_spark, by_rs = rows_by_spark_and(spark, uri)
    assert by_rs == by_spark and len(by_rs) == 39
    # the feature is gone, so the next maintenance has nothing to drop
    from delta.tables import DeltaTable

    assert "deletionVectors" not in DeltaTable.forPath(spark, uri).detail().first()["tableFeatures"]


def test_vacuum_respects_retention(spark, make_cfg):
    cfg = make_cfg()
    uri = tables.under(cfg, "silver/reviews")
    write(spark, uri, batch_rows(0), mode="overwrite", files=3)
    write(spark, uri, batch_rows(1), mode="overwrite", files=3)  # version 0's files now unreferenced
    on_storage = maintenance.storage_files(spark, uri)
    assert on_storage == 6 and active_files(spark, uri) == 3

    # the default retention (168 h) deletes nothing this young: version 0 stays readable
    cfg = make_cfg("maintenance.optimize=false")
    maintain_now(cfg, ["silver/reviews"])
    assert maintenance.storage_files(spark, uri) == 6
    assert read(spark, uri, 0).count() == 40

    # below Delta's safety floor: refused before anything is touched ...
    short = make_cfg("maintenance.optimize=false", "maintenance.vacuum_retention_hours=0")
    with pytest.raises(ConfigError, match="retentionDurationCheck"):
        maintain_now(short, ["silver/reviews"])
    assert maintenance.storage_files(spark, uri) == 6
    # ... unless the check is switched off: then version 0's files go, and time travel to it fails
    spark.conf.set(maintenance.RETENTION_CHECK, "false")
    try:
        maintain_now(short, ["silver/reviews"])
    finally:
        spark.conf.unset(maintenance.RETENTION_CHECK)
    assert maintenance.storage_files(spark, uri) == 3
    assert read(spark, uri).count() == 40
    with pytest.raises(Exception):  # noqa: B017 - Spark's error for the vacuumed files, whatever its class
        read(spark, uri, 0).collect()


def test_rollback_restores_an_older_version(spark, make_cfg, tmp_path, capsys):
    cfg = make_cfg()
    uri = tables.under(cfg, "silver/reviews")
    write(spark, uri, batch_rows(0), mode="overwrite", batch=0)
    write(spark, uri, batch_rows(1), mode="overwrite", batch=1)
    write(spark, uri, batch_rows(2, 5), batch=2)
    v0 = read(spark, uri, 0)
    args = ["--lakehouse", str(tmp_path / "lakehouse")]

    assert history.main([*args, "--table", "silver/reviews"]) == 0
    out = capsys.readouterr().out
    assert "history of silver/reviews" in out and '{"batch": 2}' in out
    assert history.main(args) == 0
    assert capsys.readouterr().out.split()[:3] == ["silver/reviews", "version", "2"]

    # rollback waits for the writer: clean_reviews holding its lock -> exit 5, nothing restored
    LocalStore().create(lock_uri(cfg, "clean_reviews"), Owner("clean_reviews", "elsewhere", 1, "n1", 9e9).to_bytes())
    assert rollback.main([*args, "--table", "silver/reviews", "--version", "0"]) == 5
    assert delta_io.version(spark, uri) == 2
    LocalStore().delete(lock_uri(cfg, "clean_reviews"))

    assert rollback.main([*args, "--table", "silver/reviews", "--version", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("history of silver/reviews") and "version 0 restored as version 3" in out
    assert_df_equality(read(spark, uri), v0, ignore_row_order=True)
    last = delta_io.history(spark, uri, 1)[0]
    assert last["operation"] == "RESTORE" and json.loads(last["userMetadata"]) == {"batch": 0}
    assert read(spark, uri, 2).count() == 45  # the rolled-back version stays readable

    assert rollback.main([*args, "--table", "silver/reviews", "--version", "9"]) == 2
    assert "no version 9" in capsys.readouterr().err
    assert rollback.main([*args, "--table", "silver/nope", "--version", "0"]) == 2


def test_lock_on_a_hadoop_filesystem(spark, tmp_path):
    """The lock through Hadoop FileSystem (the store used for hdfs:/s3a: lakehouses)."""
    store, uri = HadoopStore(spark), "file:" + str(tmp_path / "_locks" / "score_reviews.lock")
    first = Owner("score_reviews", "h1", os.getpid(), "first", time.time())
    acquire(store, uri, first, 3600)
    assert store.read(uri)[0] == first.to_bytes()
    with pytest.raises(LockHeldError, match="run first"):
        acquire(store, uri, Owner("score_reviews", "h1", os.getpid(), "second", first.started_at), 3600)
    release(store, uri, first)
    assert store.read(uri) is None

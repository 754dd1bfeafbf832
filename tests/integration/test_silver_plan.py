"""silver.plan_changes over a published lakehouse's bronze (real Spark and Delta): the change sets
derive from the frames it held alone, so what planning cached is released before they are
computed (segmentation, the gates and publish get the memory), and they still hold every row."""

from __future__ import annotations

from types import SimpleNamespace

from pyspark.sql import functions as F

from reviewlake.core import delta_io
from reviewlake.core.report import RunReport
from reviewlake.core.spark import shuffle_partitions_restored
from reviewlake.jobs.clean_reviews import table_uris
from reviewlake.lake import silver
from reviewlake.quality.stager import Stager, held_rdd


def nothing_cached(spark) -> bool:
    return spark._jsparkSession.sharedState().cacheManager().isEmpty()


def held_rdds(spark) -> set[int]:
    """The ids of the RDDs whose blocks the session holds (cached frames' and checkpoints')."""
    return {int(i) for i in spark.sparkContext._jsc.getPersistentRDDs().keySet().toArray()}


def test_planning_leaves_nothing_cached_and_the_change_sets_hold_every_row(spark, reference_lake):
    cfg = reference_lake.cfg
    bronze = delta_io.read(spark, table_uris(cfg)["bronze"])
    reviews = bronze.count()  # first: Delta holds the snapshot it reads (an RDD of its own)
    published = {name: None for name in silver.TABLES}  # a rebuild: no published tables read
    ctx = SimpleNamespace(spark=spark, cfg=cfg, run_id="plan-test")
    before = held_rdds(spark)  # what earlier tests left (the context cleaner may drop some)
    with Stager(ctx) as stager, shuffle_partitions_restored(spark):
        planned = silver.plan_changes(
            bronze,
            published,
            cfg,
            RunReport("clean_reviews"),
            lambda name, df: stager.stage(name, df).df,
            delta_io.ChangesSince(removed=False, batches=None),
        )
        assert nothing_cached(spark)  # cleaned rows, population, dedupe's frames: released
        assert len(held_rdds(spark) - before) == 2  # the clustering and the filtered rows
        changes = {name: stager.stage(name, df) for name, df in planned.items()}
        stager.keep_only(changes.values())
        assert held_rdds(spark) - before == {held_rdd(s.df).id() for s in changes.values()}  # the change sets alone
        assert changes["disposition"].df.count() == reviews > 0
    assert not held_rdds(spark) - before


def test_the_accounting_finds_the_untouched_published_rows_by_broadcast(spark, reference_lake):
    """The run's invariant counts the tables as they will be; the published rows an increment's
    change sets leave alone are found by a broadcast of the change sets' ids (held and counted), not
    by a sort-merge join that shuffles every published row."""
    from tests.integration.test_apply_changes import executed_plans

    t = table_uris(reference_lake.cfg)
    bronze = delta_io.read(spark, t["bronze"])
    published = silver.read_published(spark, t, rebuild=False)
    # an increment's change sets, held as the job holds them: five published rows upserted again,
    # from a plan the optimizer sizes at gigabytes (in a run, filters and joins of large tables)
    large = spark.range(10**10).where(F.col("id") < 1).select()
    changes = {
        name: published[name].limit(5).crossJoin(large).withColumn(delta_io.DELETE_FLAG, F.lit(False)).localCheckpoint()
        for name in ("disposition", "silver")
    }
    assert changes["silver"]._jdf.queryExecution().optimizedPlan().stats().sizeInBytes() > 2**33
    before, held = len(executed_plans(spark)), held_rdds(spark)
    figures = silver.check_accounting(bronze, published, changes)
    assert figures.bronze_rows == sum(figures.outcomes.values()) > 0
    plans = [p for p in executed_plans(spark, before) if "LeftAnti" in p]
    assert plans and all("SortMergeJoin" not in p for p in plans), plans
    assert held_rdds(spark) <= held  # the held ids are released

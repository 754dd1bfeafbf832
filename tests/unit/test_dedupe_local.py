"""Clustering a small population on the driver (reviewlake/lake/dedupe_local.py) gives what the
Spark path gives: the same clusters, survivors, outcomes, bands and resolved labels, under every
label policy, with exact and near copies, chains, short keys, missing times and missing labels."""

from __future__ import annotations

import dataclasses

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from reviewlake.lake import incremental, silver
from reviewlake.lake.dedupe_local import order_key, resolve_labels
from reviewlake.text.signals import SCORES
from tests.unit.test_dedupe import BASE, NEAR, OTHER, cleaned_frame

CHAIN = "质量很好的一本书，内容丰富，印刷清晰，物流也很快，包装完好无损，值得推荐给朋友们阅读"
ROWS = [
    ("base", BASE, "2024-01-01 00:00:00", "positive"),
    ("exact", BASE, "2024-03-01 00:00:00", "negative"),  # a label conflict in base's cluster
    ("other", OTHER, None, "negative"),
    ("other_copy", OTHER, None, None),
    ("short_a", "很好很好的", None, "positive"),
    ("short_b", "很好很好的!", "2023-05-05 00:00:00", "negative"),
    ("chain_1", CHAIN, None, "positive"),
    ("chain_2", CHAIN + "，总体满意", None, "positive"),
    ("chain_3", CHAIN + "，总体满意，下次还买", None, None),
    *[(kind, text, None, "positive" if i % 3 else "neutral") for i, (kind, (text, _)) in enumerate(NEAR.items())],
]
COLUMNS = [*incremental.POPULATION_COLUMNS, "source_label", "survivor_id", "dup_cluster_id", "outcome"]
COLUMNS += ["minhash_bands", "label_conflict", "dropped"]


def population(spark, make_cfg):
    df = cleaned_frame(spark, make_cfg, ROWS)
    return (
        df.withColumn("batch_id", F.lit("b1"))
        .withColumn("rating", F.lit(None).cast("int"))
        .withColumn("product_id", F.lit(None).cast("string"))
        .withColumn("user_id", F.lit(None).cast("string"))
        .withColumns({score: F.lit(0.5) for score in SCORES})
        .select(*incremental.POPULATION_COLUMNS)
    )


# Two of the six in `make test` (every policy is exercised by test_dedupe's label-conflict test); the
# other four run in the system tier, to keep `make test` within its 10 minutes.
_LATER = pytest.mark.system


@pytest.mark.parametrize(
    ("policy", "near"),
    [
        ("majority", True),
        ("drop", False),
        pytest.param("survivor", True, marks=_LATER),
        pytest.param("drop", True, marks=_LATER),
        pytest.param("majority", False, marks=_LATER),
        pytest.param("survivor", False, marks=_LATER),
    ],
)
def test_the_driver_clusters_as_spark_does(spark, make_cfg, policy, near):
    settings = dataclasses.replace(make_cfg().dedupe, label_conflict_policy=policy, near=near)
    pop = population(spark, make_cfg)
    on_spark = silver.cluster(pop, settings).select(*COLUMNS)
    on_driver = silver.cluster_on_driver(pop, settings).select(*COLUMNS)
    assert_df_equality(on_driver, on_spark, ignore_row_order=True, ignore_nullable=True)
    kept = {r.review_id for r in on_driver.where("outcome = 'kept'").collect()}
    assert {"base", "other", "short_b"} <= kept and not {"exact", "short_a"} & kept  # what the set-up plants


def test_the_survivor_rule_and_label_ties_by_hand():
    rows = [
        {"review_id": "b", "created_at": None, "label": "x"},
        {"review_id": "c", "created_at": None, "label": "y"},
        {"review_id": "a", "created_at": None, "label": None},
    ]
    assert min(rows, key=order_key)["review_id"] == "a"  # no times: the smallest id
    for r in rows:
        r.update(dup_cluster_id="a", outcome="kept" if r["review_id"] == "a" else "near_duplicate")
    resolve_labels(rows, "majority")
    # one vote each and a survivor without a label: the larger label wins, as Spark's max does
    assert [r["label"] for r in rows] == ["y", "y", "y"] and all(r["label_conflict"] for r in rows)

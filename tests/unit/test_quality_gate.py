"""The silver gate on the change set (real GX): what it reads, and that it still fails when the
table as it will be would break an expectation only the whole table seemed to tell."""

from __future__ import annotations

import re
import sys
from functools import reduce

import pytest
from chispa import assert_df_equality
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from reviewlake.core import delta_io
from reviewlake.errors import QualityGateError
from reviewlake.lake.silver import SILVER_COLUMNS, silver_audit_view
from reviewlake.quality import gate
from reviewlake.quality.suites import silver as silver_suite

SCHEMA = (
    "review_id string, batch_id string, text string, text_hash string, label string, rating int, "
    "char_len int, tokens array<string>, token_count int, dup_cluster_id string, minhash_bands array<long>, "
    "product_id string, user_id string, created_at string, cjk_share double, special_char_share double, "
    "char_rep_ratio double, cluster_products int, cluster_users int, quality_flags array<string>"
)


def rows(spark, *specs, delete=None, signals=(1.0, 0.0, 0.0, 1, 1, [])):
    """Silver rows ``(review_id, text_hash)`` (valid otherwise; ``signals``: their scores, counts
    and flags); ``delete``: add the change-set flag."""
    df = spark.createDataFrame(
        [
            (rid, "b1", "很好的东西", h, "positive", 5, 5, ["很", "好"], 2, rid, [1], None, None, None, *signals)
            for rid, h in specs
        ],
        SCHEMA,
    )
    return df if delete is None else df.withColumn(delta_io.DELETE_FLAG, F.lit(delete))


def test_audit_view_names_the_published_row_a_new_text_hash_repeats(spark):
    published = rows(spark, ("a", "h1"), ("b", "h2"), ("c", "h3"))
    # new d repeats a's hash (a stays); b' replaces b with its own hash; e repeats c, which is deleted
    changes = rows(spark, ("d", "h1"), ("b", "h2"), ("e", "h3"), delete=False).unionByName(
        rows(spark, ("c", "h3"), delete=True)
    )
    view = silver_audit_view(published, changes).select("review_id", "clashes_with")
    expected = spark.createDataFrame([("d", "a"), ("b", None), ("e", None)], "review_id string, clashes_with string")
    assert_df_equality(view, expected, ignore_row_order=True)


def test_audit_view_of_a_rebuild_is_the_upserts(spark):
    changes = rows(spark, ("a", "h1"), delete=False).unionByName(rows(spark, ("z", "h9"), delete=True))
    view = silver_audit_view(None, changes)
    assert [r.review_id for r in view.collect()] == ["a"] and view.columns == [
        *SILVER_COLUMNS,
        "unknown_flag",
        "clashes_with",
    ]


@pytest.mark.parametrize(
    "upserts, clash",
    [
        ([("d", "h1")], True),  # repeats a published row it keeps
        ([("d", "h9"), ("e", "h9")], True),  # two upserts share a hash
        ([("d", "h9")], False),
        ([], False),  # a change set that only deletes
    ],
)
def test_silver_suite_on_the_change_set_fails_on_a_text_hash_clash(spark, make_cfg, upserts, clash):
    published = rows(spark, ("a", "h1"))
    changes = rows(spark, *upserts, delete=False) if upserts else rows(spark, ("a", "h1"), delete=True)
    result = gate.validate(
        silver_audit_view(published, changes), "silver_reviews", silver_suite.reviews(make_cfg()), None
    )
    assert result.success is not clash
    if clash:
        assert any("clashes_with" in f or "text_hash" in f for f in result.failed)


def signal_rows(spark, *signals):
    """A change set of one valid row per ``signals`` (scores, counts, flags)."""
    changes = [rows(spark, (f"r{i}", f"h{i}"), delete=False, signals=s) for i, s in enumerate(signals)]
    return reduce(DataFrame.unionByName, changes)


def test_silver_suite_checks_the_soft_signals(spark, make_cfg):
    """Scores in [0, 1], counts >= 0 (0: a cluster without ids), flags a list of known names; each
    bad row below breaks one expectation (validated on the driver, as a small change set is)."""
    suite = silver_suite.reviews(make_cfg())
    good = [
        (0.2, 0.5, 0.4, 3, 4, ["high_special_chars", "low_cjk_share", "repetitive", "template"]),
        (1.0, 0.0, 0.0, 0, 0, []),
    ]
    assert gate.validate(
        silver_audit_view(None, signal_rows(spark, *good)).toPandas(), "silver_reviews", suite, None
    ).success
    bad = {
        "unknown_flag": (1.0, 0.0, 0.0, 1, 1, ["template", "spam"]),
        "quality_flags": (1.0, 0.0, 0.0, 1, 1, None),
        "cjk_share": (1.5, 0.0, 0.0, 1, 1, []),
        "special_char_share": (1.0, -0.1, 0.0, 1, 1, []),
        "char_rep_ratio": (1.0, 0.0, None, 1, 1, []),
        "cluster_products": (1.0, 0.0, 0.0, -1, 1, []),
        "cluster_users": (1.0, 0.0, 0.0, 1, None, []),
    }
    view = silver_audit_view(None, signal_rows(spark, *bad.values())).toPandas()
    result = gate.validate(view, "silver_reviews", suite, None)
    assert not result.success
    assert {re.search(r"column=(\w+)", f)[1] for f in result.failed} == set(bad)


def test_one_suite_validated_by_spark_then_by_pandas_in_one_process(spark, make_cfg):
    """A change set over quality.pandas_max_rows goes to GX's Spark engine, a later one under it to
    the pandas engine: the same suite name, one process, both verdicts (GX looks a validation
    definition up by name and resolves its asset in the data source it was made with)."""
    suite = silver_suite.reviews(make_cfg())
    view = silver_audit_view(None, rows(spark, ("r1", "h1"), ("r2", "h2"), delete=False))
    name = "silver_reviews_both_engines"
    assert gate.validate(view, name, suite, None).success
    assert gate.validate(view.toPandas(), name, suite, None).success
    assert gate.validate(view, name, suite, None).success


def test_row_count_gate_uses_the_count_it_is_given():
    assert gate.require_rows("silver.reviews", 3, 3).success
    with pytest.raises(QualityGateError, match=r"silver_reviews_rows FAILED.*min_value=4\) observed=3"):
        gate.require_rows("silver.reviews", 3, 4)


def test_warm_up_starts_one_background_import_per_process():
    gate.warm_up()
    first = gate._warm_up
    gate.warm_up()
    assert gate._warm_up is first and first.daemon
    gate.wait_for_warm_up()
    assert not first.is_alive() and "great_expectations.expectations" in sys.modules

"""The pure pieces of the label-issues job (reviewlake/train/label_issues.py): folds by duplicate
cluster, the driver's row bound, the suggested label, the ranking by confident learning, and the
gold.label_issues suite."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reviewlake.core.config import load_config
from reviewlake.errors import ConfigError
from reviewlake.train import label_issues as li


def test_copies_share_a_fold_whatever_the_partitioning(spark):
    from pyspark.sql import functions as F

    # 300 clusters of 1-3 rows each, as one partition and as seven; folds under two seeds
    rows = [(f"r{c}_{i}", f"c{c}") for c in range(300) for i in range(1 + c % 3)]
    df = spark.createDataFrame(rows, "review_id string, dup_cluster_id string")
    both = (
        df.coalesce(1)
        .withColumn("layout", F.lit("one"))
        .unionByName(df.repartition(7, "review_id").withColumn("layout", F.lit("seven")))
    )
    got = both.select(
        "layout",
        "review_id",
        "dup_cluster_id",
        li.fold_column("dup_cluster_id", 5, 7).alias("fold"),
        li.fold_column(F.col("dup_cluster_id"), 5, 8).alias("other_seed"),
    ).toPandas()
    one, seven = (got[got["layout"] == x].set_index("review_id").sort_index() for x in ("one", "seven"))
    assert len(one) == len(rows) and one[["fold", "other_seed"]].equals(seven[["fold", "other_seed"]])
    per_cluster = one.groupby("dup_cluster_id")["fold"].nunique()
    assert (per_cluster == 1).all()  # every copy in its cluster's fold
    clusters_per_fold = one.drop_duplicates("dup_cluster_id")["fold"].value_counts()
    assert sorted(clusters_per_fold.index) == [0, 1, 2, 3, 4] and clusters_per_fold.min() >= 40  # 60 on average
    assert not one["fold"].equals(one["other_seed"])  # the seed moves clusters


def test_more_labelled_rows_than_the_driver_may_hold_is_a_config_error_naming_the_setting():
    li.check_driver_rows(10, 10)
    with pytest.raises(ConfigError, match=r"^11 labelled rows exceed label_issues.max_driver_rows \(10\)"):
        li.check_driver_rows(11, 10)


def test_the_suggested_label_is_the_most_probable_other_class():
    probs = np.array([[0.7, 0.2, 0.1], [0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.5, 0.5, 0.0]])
    assert li.suggested_labels(np.array([1, 0, 2, 2]), probs).tolist() == [0, 1, 1, 0]


def noisy(n=120, flipped=(3, 17, 40, 77, 101), seed=0):
    """``n`` rows of 3 classes whose probabilities favour their true class (0.7 to 1), the rows
    ``flipped`` given another label (the model sure of their true class: 0.94 to 0.96)."""
    rng = np.random.default_rng(seed)
    truth = np.arange(n) % 3
    probs = rng.dirichlet(np.ones(3), size=n) * 0.3
    probs[np.arange(n), truth] += 0.7
    flipped = list(flipped)
    probs[flipped] = rng.dirichlet(np.ones(3), size=len(flipped)) * 0.05
    probs[flipped, truth[flipped]] += 0.95
    labels = truth.copy()
    labels[flipped] = (truth[flipped] + 1) % 3
    return [f"id{i:03d}" for i in range(n)], labels, probs, truth


def test_flipped_rows_are_found_and_ranked_by_label_quality():
    ids, labels, probs, truth = noisy()
    issues = li.rank_issues(ids, labels, probs, ["negative", "neutral", "positive"], load_config().label_issues)
    assert list(issues.columns) == list(li.ISSUE_COLUMNS)
    assert set(issues["review_id"]) == {"id003", "id017", "id040", "id077", "id101"}
    assert issues["rank"].tolist() == [1, 2, 3, 4, 5]
    assert issues["label_quality"].is_monotonic_increasing
    # self confidence: the probability of the given label
    expected = {ids[i]: probs[i, labels[i]] for i in range(len(ids))}
    assert np.allclose(issues["label_quality"], [expected[i] for i in issues["review_id"]])
    names = np.array(["negative", "neutral", "positive"])
    by_id = issues.set_index("review_id")
    for i in (3, 17, 40, 77, 101):
        assert by_id.loc[ids[i], "given_label"] == names[labels[i]]
        assert by_id.loc[ids[i], "suggested_label"] == names[truth[i]]


def test_ties_rank_by_review_id_and_a_clean_set_has_an_empty_queue():
    settings = load_config(None, ["label_issues.filter_by=predicted_neq_given"]).label_issues
    probs = np.array([[0.9, 0.1]] * 6)
    issues = li.rank_issues(["f", "b", "a", "e", "d", "c"], np.array([0, 1, 1, 0, 0, 1]), probs, ["n", "p"], settings)
    assert issues["review_id"].tolist() == ["a", "b", "c"] and issues["rank"].tolist() == [1, 2, 3]
    clean = li.rank_issues(["a", "b"], np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]), ["n", "p"], settings)
    assert clean.empty and list(clean.columns) == list(li.ISSUE_COLUMNS)


@pytest.mark.parametrize(
    "change, broken",
    [
        (None, None),
        ("empty", None),
        ("same_label", "relabels"),
        ("rank_twice", "rank"),
        ("unknown_label", "suggested_label"),
    ],
)
def test_the_gold_label_issues_suite(change, broken):
    from reviewlake.quality import gate
    from reviewlake.quality.suites import gold

    queue = pd.DataFrame(
        {
            "review_id": ["a", "b", "c"],
            "given_label": ["negative", "positive", "positive"],
            "suggested_label": ["positive", "negative", "negative"],
            "label_quality": [0.01, 0.2, 0.3],
            "rank": [1, 2, 3],
        }
    )
    if change == "empty":
        queue = queue.iloc[:0]
    elif change == "same_label":
        queue.loc[1, "suggested_label"] = "positive"
    elif change == "rank_twice":
        queue.loc[2, "rank"] = 2
    elif change == "unknown_label":
        queue.loc[0, "suggested_label"] = "neutral"
    queue["relabels"] = queue["given_label"] != queue["suggested_label"]
    result = gate.validate(queue, "gold_label_issues", gold.label_issues(["negative", "positive"], 10), None)
    assert result.success is (broken is None), result.failed
    if broken:
        assert any(broken in f for f in result.failed), result.failed


@pytest.mark.parametrize("classes", [2, 3])
def test_the_flip_benchmark_moves_exactly_its_share_of_labels_to_another_class(classes):
    from bench.quality.label_flips import flip

    labels = np.arange(1000) % classes
    noisy, rows = flip(labels, classes, 0.06, seed=1)
    changed = np.flatnonzero(noisy != labels)
    assert len(rows) == 60 and changed.tolist() == rows.tolist()
    assert set(noisy.tolist()) <= set(range(classes))
    assert flip(labels, classes, 0.06, seed=1)[1].tolist() == rows.tolist()
    assert flip(labels, classes, 0.06, seed=2)[1].tolist() != rows.tolist()

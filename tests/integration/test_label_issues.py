"""The label-issues job on the reference lakehouse (corpus sample): labels flipped on purpose are
found and ranked near the top of the queue; the job through its entry point writes
gold/label_issues (the contract's columns, readable without Spark), a rerun with nothing new
changes nothing, one with other settings replaces the queue whole, and more labelled rows than
``label_issues.max_driver_rows`` stop it with exit 2 before anything is written."""

from __future__ import annotations

import numpy as np
import pytest

from reviewlake.core import delta_io, tables
from reviewlake.jobs import label_issues as job
from reviewlake.train import label_issues as li
from tests.integration.helpers import rows_by_spark_and

FAST = ("label_issues.folds=3", "label_issues.max_iter=20")
FLIPPED = 12


@pytest.fixture(scope="module")
def labelled(spark, reference_lake):
    """The reference lakehouse's labelled rows, collected, with the fit frame (unpersisted after)."""
    cfg = reference_lake.cfg
    frame, rows = li.read_labelled(spark, cfg, li.inputs_version(spark, cfg))
    yield frame, rows
    frame.unpersist()


def test_flipped_labels_are_found_near_the_top(spark, labelled, make_cfg):
    """Three draws of 12 flipped labels, counted together: one draw's count swings with the folds,
    which follow the review ids, which name the sample's temporary path (measured over 16 draws:
    6-10 of 12 found, 7-10 among the lowest 10%)."""
    frame, rows = labelled
    settings = make_cfg(*FAST).label_issues
    n = len(rows)
    assert n > 200 and set(rows.labels.tolist()) == {0, 1}
    pdf = frame.select("review_id", "text", "fold").orderBy("review_id").toPandas()
    assert pdf["review_id"].tolist() == rows.review_ids.tolist()
    by_text = np.argsort(np.array(rows.texts, dtype=object), kind="stable")  # the same rows whatever their ids
    found = lowest_found = queue = 0
    for seed in (1, 2, 3):
        flipped = by_text[np.random.default_rng(seed).choice(n, size=FLIPPED, replace=False)]
        labels = rows.labels.copy()
        labels[flipped] = 1 - labels[flipped]
        pdf["label"] = labels.astype(float)
        noisy_frame = spark.createDataFrame(pdf[["review_id", "text", "label", "fold"]])
        noisy = li.Labelled(rows.review_ids, rows.texts, labels, rows.folds, rows.class_names, rows.features_version)
        probs = li.out_of_fold_probabilities(noisy_frame, noisy, settings)
        assert probs.shape == (n, 2) and np.allclose(probs.sum(axis=1), 1)
        assert (probs.argmax(axis=1) == rows.labels).mean() > 0.7  # the model learns the true labels
        issues = li.rank_issues(rows.review_ids, labels, probs, rows.class_names, settings)
        found += len(set(issues["review_id"]) & set(rows.review_ids[flipped]))
        queue += len(issues)
        quality = probs[np.arange(n), labels]
        lowest = set(rows.review_ids[np.argsort(quality, kind="stable")[: n // 10]])
        lowest_found += len(lowest & set(rows.review_ids[flipped]))
    # found: at least half the flipped rows are in the queue, where they are far more common than
    # among all rows
    assert found >= 3 * FLIPPED // 2, (found, queue)
    assert found / queue >= 3 * FLIPPED / n, (found, queue)
    # near the top: half of them among the 10% of rows with the lowest label quality
    assert lowest_found >= 3 * FLIPPED // 2, lowest_found


def test_a_rows_probabilities_never_read_its_own_label(spark, labelled, make_cfg):
    """Flipping every label of fold 0 leaves fold 0's out-of-fold probabilities as they were (up to
    the last bits Spark ML's fits vary by) and moves the other folds', whose models learnt them."""
    frame, rows = labelled
    settings = make_cfg(*FAST).label_issues
    pdf = frame.select("review_id", "text", "label", "fold").orderBy("review_id").toPandas()
    flipped = pdf.assign(label=np.where(pdf["fold"] == 0, 1 - pdf["label"], pdf["label"]))
    given = li.out_of_fold_probabilities(spark.createDataFrame(pdf), rows, settings)
    after = li.out_of_fold_probabilities(spark.createDataFrame(flipped), rows, settings)
    own, others = rows.folds == 0, rows.folds != 0
    assert own.sum() > 50 and others.sum() > 50
    assert np.abs(after[own] - given[own]).max() < 1e-6
    assert np.abs(after[others] - given[others]).max() > 0.05


def queue(spark, cfg):
    return delta_io.read(spark, tables.uri(cfg, "gold", "label_issues"))


def test_the_job_writes_the_queue_and_a_rerun_replaces_it(spark, reference_lake, labelled):
    _, rows = labelled
    args = [*reference_lake.args, *[a for c in FAST for a in ("--conf", c)]]
    uri = tables.uri(reference_lake.cfg, "gold", "label_issues")
    assert job.main(args) == 0
    first = queue(spark, reference_lake.cfg).toPandas().sort_values("rank")
    assert list(first.columns) == [
        "review_id",
        "given_label",
        "suggested_label",
        "label_quality",
        "rank",
        "run_id",
        "features_version",
        "found_at",
    ]
    assert 0 < len(first) < len(rows) // 2
    assert first["rank"].tolist() == list(range(1, len(first) + 1)) and first["label_quality"].is_monotonic_increasing
    assert (first["given_label"] != first["suggested_label"]).all() and first["run_id"].nunique() == 1
    assert set(first["review_id"]) <= set(rows.review_ids)
    assert first["features_version"].unique().tolist() == [rows.features_version]
    by_spark, by_rs = rows_by_spark_and(spark, uri)  # delta-rs (pandas, Polars, DuckDB) reads it
    assert by_rs == by_spark

    version = delta_io.version(spark, uri)
    assert job.main(args) == 0  # nothing new: nothing done
    assert delta_io.version(spark, uri) == version
    # other settings: built again (a cheaper model), the table replaced whole by the new queue
    assert job.main([*reference_lake.args, "--conf", "label_issues.folds=2", "--conf", "label_issues.max_iter=5"]) == 0
    again = queue(spark, reference_lake.cfg).toPandas().sort_values("rank")
    assert delta_io.version(spark, uri) == version + 1
    assert again["run_id"].nunique() == 1 and again["run_id"].iloc[0] != first["run_id"].iloc[0]
    assert again["rank"].tolist() == list(range(1, len(again) + 1)) and again["review_id"].is_unique


def test_more_rows_than_the_driver_may_hold_stop_the_job(spark, reference_lake, capsys):
    uri = tables.uri(reference_lake.cfg, "gold", "label_issues")
    before = delta_io.version(spark, uri)
    assert job.main([*reference_lake.args, "--conf", "label_issues.max_driver_rows=10", "--force"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("label_issues: error: ") and "exceed label_issues.max_driver_rows (10)" in err
    assert delta_io.version(spark, uri) == before

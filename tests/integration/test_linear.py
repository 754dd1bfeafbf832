"""The linear TF-IDF models on the reference lakehouse (corpus sample): fitted by Spark ML, their
numpy form (what scoring and serving use) gives Spark ML's probabilities, and they beat the
majority class."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.ml import PipelineModel
from pyspark.sql import functions as F

from reviewlake.train import evaluate, linear
from reviewlake.train.gold import read_gold


@pytest.fixture(scope="module")
def text_splits(spark, reference_lake):
    gold, frame = read_gold(spark, reference_lake.cfg, with_text=True)
    yield gold, frame
    frame.unpersist()


@pytest.mark.parametrize("kind", sorted(linear.KINDS))
def test_numpy_model_gives_spark_ml_probabilities(spark, text_splits, kind):
    gold, frame = text_splits
    fitted = linear.fit(frame, kind, [1e-4, 1e-3], max_iter=30)
    model = fitted.model
    assert fitted.summary()["reg_param"] in (1e-4, 1e-3) and len(model.vocabulary) > 100

    test = frame.where(F.col("split") == "test").withColumn("grams", fitted.grams_udf(F.col(model.column)))
    by_id = {
        r["review_id"]: r["probability"].toArray()
        for r in fitted.pipeline.transform(test).select("review_id", "probability").collect()
    }
    spark_probs = np.stack([by_id[i] for i in gold.test.review_ids])
    ours = model.probabilities(gold.text["test"].column(model.column))
    assert np.abs(ours - spark_probs).max() < 1e-9

    majority = evaluate.majority_baseline(gold.train.labels, gold.test.labels, gold.class_names)["accuracy"]
    assert (ours.argmax(axis=1) == gold.test.labels).mean() > majority + 0.05


def test_training_rows_weighted_by_a_broadcast_equal_spark_mls_idf_to_the_bit(spark, text_splits):
    _, frame = text_splits
    fitted = linear.fit(frame, "word_1_2gram", [1e-3], max_iter=5)
    rows = frame.where(F.col("split") == "train").select("review_id", fitted.grams_udf("tokens").alias("grams"))
    featurize = PipelineModel(stages=fitted.pipeline.stages[:3])
    ours = {r["review_id"]: r["features"] for r in linear._featurized(rows, featurize).collect()}
    spark_ml = {r["review_id"]: r["features"] for r in featurize.transform(rows).collect()}
    assert len(ours) > 100 and ours == spark_ml  # SparseVector equality: same indices, same doubles


def test_a_gold_row_missing_from_silver_is_an_input_error(spark, reference_lake, text_splits, make_cfg):
    """gold.features read with silver: a gold row whose silver row is gone (here a copy of the
    reference tables whose silver lacks one test row) stops the read."""
    from reviewlake.core import delta_io, tables
    from reviewlake.errors import InputError

    gone = text_splits[0].test.review_ids[-1]
    cfg = make_cfg()
    for layer, name in (("gold", "features"), ("gold", "vocab"), ("gold", "labels"), ("silver", "reviews")):
        rows = delta_io.read(spark, tables.uri(reference_lake.cfg, layer, name))
        delta_io.overwrite(
            rows.where(F.col("review_id") != gone) if layer == "silver" else rows, tables.uri(cfg, layer, name)
        )
    with pytest.raises(InputError, match="1 test rows of gold.features have no silver.reviews row"):
        read_gold(spark, cfg, with_text=True)

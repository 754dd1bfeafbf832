"""The linear TF-IDF models on the reference lakehouse (corpus sample): fitted by Spark ML, their
numpy form (what scoring and serving use) gives Spark ML's probabilities, and they beat the
majority class."""

from __future__ import annotations

import numpy as np
import pytest
from pyspark.sql import functions as F

from reviewlake.jobs import train_model
from reviewlake.train import evaluate, linear


@pytest.fixture(scope="module")
def text_splits(spark, reference_lake):
    gold = train_model.read_gold(spark, reference_lake.cfg)
    frame, inputs = train_model.read_text(spark, reference_lake.cfg, gold)
    yield gold, frame, inputs
    frame.unpersist()


@pytest.mark.parametrize("kind", sorted(linear.KINDS))
def test_numpy_model_gives_spark_ml_probabilities(spark, text_splits, kind):
    gold, frame, inputs = text_splits
    fitted = linear.fit(frame, kind, [1e-4, 1e-3], max_iter=30)
    model = fitted.model
    assert fitted.summary()["reg_param"] in (1e-4, 1e-3) and len(model.vocabulary) > 100

    test = frame.where(F.col("split") == "test").withColumn("grams", fitted.grams_udf(F.col(model.column)))
    by_id = {
        r["review_id"]: r["probability"].toArray()
        for r in fitted.pipeline.transform(test).select("review_id", "probability").collect()
    }
    spark_probs = np.stack([by_id[i] for i in gold.review_ids["test"]])
    ours = model.probabilities(inputs["test"][model.column])
    assert np.abs(ours - spark_probs).max() < 1e-9

    majority = evaluate.majority_baseline(gold.y["train"], gold.y["test"], gold.class_names)["accuracy"]
    assert (ours.argmax(axis=1) == gold.y["test"]).mean() > majority + 0.05


def test_a_gold_row_missing_from_silver_is_an_input_error(spark, reference_lake, text_splits):
    from dataclasses import replace

    from reviewlake.errors import InputError

    gold = text_splits[0]
    ghost = replace(gold, review_ids={**gold.review_ids, "test": np.append(gold.review_ids["test"], "no-such-id")})
    with pytest.raises(InputError, match="1 test rows of gold.features have no silver.reviews row"):
        train_model.read_text(spark, reference_lake.cfg, ghost)

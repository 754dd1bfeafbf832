"""End to end: landing files -> silver -> gold -> Horovod training (2 processes) -> scoring, through
the entry points, on a sample of the real corpus (the session's trained reference lakehouse; the
notebooks run on it in test_notebooks.py) and, marked slow, on all of it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pyspark.sql import functions as F

from reviewlake.core import delta_io, tables
from reviewlake.jobs import build_features, clean_reviews, score_reviews, train_model
from reviewlake.train.champion import Scorer
from tests.conftest import Lake

ROOT = Path(__file__).resolve().parents[2]


def test_whole_flow_on_a_corpus_sample(spark, trained_lake):
    lake = trained_lake
    version = (lake.root / "models" / "LATEST").read_text().strip()
    model_dir = lake.root / "models" / version
    metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    assert {"accuracy", "macro_f1", "per_class", "baselines"} <= set(metrics)
    assert (model_dir / "saved_model").is_dir() and (model_dir / "vocab.txt").exists()
    silver = delta_io.read(spark, tables.uri(lake.cfg, "silver", "reviews"))
    predictions = delta_io.read(spark, tables.uri(lake.cfg, "gold", "predictions"))
    assert predictions.count() == silver.count()
    assert predictions.select("review_id").distinct().count() == silver.count()
    assert predictions.where(predictions.model_version != version).count() == 0

    # the champion: chosen on validation among the candidates metrics.json reports
    candidates = metrics["candidates"]
    assert metrics["champion"] in candidates and candidates["majority"]["kind"] == "majority"
    assert {"lstm", "word_1_2gram", "char_1_4gram", "ensemble"} <= set(candidates)
    for c in candidates.values():
        assert c["accuracy_ci95"][0] <= c["accuracy"] <= c["accuracy_ci95"][1]
        assert c["macro_f1_ci95"][0] <= c["macro_f1"] <= c["macro_f1_ci95"][1] and 0 <= c["ece"] <= 1
    best = max((n for n in candidates if n != "majority"), key=lambda n: candidates[n]["validation_accuracy"])
    assert candidates[metrics["champion"]]["validation_accuracy"] == candidates[best]["validation_accuracy"]
    assert metrics["accuracy"] == candidates[metrics["champion"]]["accuracy"]
    assert 0 < metrics["mcnemar_p_vs_best_baseline"] <= 1
    assert (model_dir / "reliability.png").is_file()

    # batch scoring, the serving helper and TF Serving's SavedModel give the champion's test
    # probabilities: one model everywhere
    saved = np.load(model_dir / "test_probabilities.npz")
    ids, expected = list(saved["review_id"]), saved["probabilities"]
    assert len(ids) == metrics["n"]
    scored = {r["review_id"]: r["probabilities"] for r in predictions.where(F.col("review_id").isin(ids)).collect()}
    assert np.abs(np.array([scored[i] for i in ids]) - expected).max() < 1e-5
    raw = {
        r["review_id"]: r["raw_text"]
        for r in delta_io.read(spark, tables.uri(lake.cfg, "bronze", "reviews_raw"))
        .where(F.col("review_id").isin(ids))
        .select("review_id", "raw_text")
        .collect()
    }
    scorer = Scorer.from_model_dir(model_dir)
    assert scorer.champion_model == model_dir / "champion_model"
    served = scorer.predict_raw([raw[i] for i in ids])
    assert np.abs(served - expected).max() < 1e-5
    # TF Serving's view: the champion SavedModel loaded on its own, called through its signature
    import tensorflow as tf

    signature = tf.saved_model.load(str(model_dir / "champion_model")).signatures["serving_default"]
    inputs = scorer.serving_inputs_raw([raw[i] for i in ids])
    by_tf = signature(**{name: tf.constant(a) for name, a in inputs.items()})["probabilities"].numpy()
    assert np.abs(by_tf - expected).max() < 1e-5


@pytest.mark.slow
def test_whole_flow_on_the_full_corpus_beats_the_majority_class(spark, tmp_path):
    lake = Lake.at(tmp_path)
    assert clean_reviews.main(["--input", str(ROOT / "data" / "landing"), *lake.args]) == 0
    assert build_features.main(lake.args) == 0
    assert train_model.main(lake.args) == 0
    assert score_reviews.main([*lake.args, "--model-version", "latest"]) == 0
    version = (tmp_path / "models" / "LATEST").read_text().strip()
    metrics = json.loads((tmp_path / "models" / version / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["accuracy"] > metrics["baselines"]["majority"]["accuracy"]

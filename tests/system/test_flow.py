"""End to end: landing files -> silver -> gold -> Horovod training (2 processes) -> scoring, through
the entry points, on a sample of the real corpus (the session's trained reference lakehouse; the
notebooks run on it in test_notebooks.py) and, marked slow, on all of it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewlake.jobs import build_features, clean_reviews, score_reviews, train_model
from reviewlake.core import delta_io, tables
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

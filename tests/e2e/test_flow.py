"""End to end: landing files -> silver -> gold -> Horovod training -> scoring -> notebook,
through the entry points, on a sample of the real corpus (and, marked slow, on all of it)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pipelines import build_features, clean_reviews, score_reviews, train_model
from pipelines.core import delta_io
from pipelines.core.config import load_config

ROOT = Path(__file__).resolve().parents[2]
FAST_MODEL = ["train.epochs=2", "train.embedding_dim=32", "train.lstm_units=16", "features.max_len=60"]


def run_flow(root: Path, landing: Path, conf: list[str]) -> tuple[list[str], object]:
    args = ["--lakehouse", str(root / "lakehouse"), "--conf", f"reports_dir={root / 'reports'}",
            "--conf", f"models_dir={root / 'models'}"]
    for c in conf:
        args += ["--conf", c]
    assert clean_reviews.main(["--input", str(landing), *args]) == 0
    assert build_features.main(args) == 0
    assert train_model.main(args) == 0
    assert score_reviews.main([*args, "--model-version", "latest"]) == 0
    cfg = load_config(overrides=[f"lakehouse={root / 'lakehouse'}", f"models_dir={root / 'models'}",
                                 f"reports_dir={root / 'reports'}", *conf])
    return args, cfg


def execute_notebook(name: str, env: dict[str, str]) -> None:
    import nbformat
    from nbclient import NotebookClient

    os.environ.update(env)
    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors


def test_whole_flow_on_a_corpus_sample(spark, corpus_sample, tmp_path):
    _, cfg = run_flow(tmp_path, corpus_sample, FAST_MODEL)
    version = (tmp_path / "models" / "LATEST").read_text().strip()
    model_dir = tmp_path / "models" / version
    metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    assert {"accuracy", "macro_f1", "per_class", "baselines"} <= set(metrics)
    assert (model_dir / "saved_model").is_dir() and (model_dir / "vocab.txt").exists()
    silver = delta_io.read(spark, delta_io.table_uri(cfg, "silver", "reviews"))
    predictions = delta_io.read(spark, delta_io.table_uri(cfg, "gold", "predictions"))
    assert predictions.count() == silver.count()
    assert predictions.select("review_id").distinct().count() == silver.count()
    execute_notebook("explore_corpus.ipynb", {"REVIEWLAKE_LAKEHOUSE": str(tmp_path / "lakehouse")})
    execute_notebook("model_report.ipynb", {"REVIEWLAKE_LAKEHOUSE": str(tmp_path / "lakehouse"),
                                            "REVIEWLAKE_MODELS": str(tmp_path / "models")})


@pytest.mark.slow
def test_whole_flow_on_the_full_corpus_beats_the_majority_class(spark, tmp_path):
    run_flow(tmp_path, ROOT / "data" / "landing", [])
    version = (tmp_path / "models" / "LATEST").read_text().strip()
    metrics = json.loads((tmp_path / "models" / version / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["accuracy"] > metrics["baselines"]["majority"]["accuracy"]

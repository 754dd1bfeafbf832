"""One session-scoped SparkSession (real Spark, real Delta) for the whole test run."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from pipelines.core.config import load_config
    from pipelines.core.spark import get_spark

    cfg = load_config(overrides=[
        f"lakehouse={tmp_path_factory.mktemp('lake_session')}",
        "spark.conf.spark.sql.shuffle.partitions=4",
        "spark.conf.spark.ui.enabled=false",
        "spark.master=local[2]",
    ])
    session = get_spark(cfg)
    yield session
    session.stop()


@pytest.fixture
def make_cfg(tmp_path):
    """Config for one test: its own lakehouse/reports/models under tmp_path, plus overrides."""
    from pipelines.core.config import load_config

    def _make(*overrides: str):
        return load_config(overrides=[
            f"lakehouse={tmp_path / 'lakehouse'}",
            f"reports_dir={tmp_path / 'reports'}",
            f"models_dir={tmp_path / 'models'}",
            *overrides,
        ])

    return _make


@pytest.fixture(scope="session")
def corpus_sample(tmp_path_factory) -> Path:
    """A small real sample of the bundled corpus: per file, the first 150 lines plus both
    occurrences of the first 20 lines that the file repeats (so the sample has real duplicates)."""
    src = DATA / "landing"
    if not (src / "pos.txt").exists():
        pytest.fail("bundled corpus missing: run `make setup`")
    out = tmp_path_factory.mktemp("landing_sample")
    for name in ("pos.txt", "neg.txt"):
        all_lines = (src / name).read_text(encoding="utf-8").splitlines()
        seen, repeated = set(), []
        for line in all_lines[150:]:
            if line in seen and line not in repeated:
                repeated.append(line)
            seen.add(line)
        lines = all_lines[:150] + [line for line in repeated[:20] for _ in range(2)]
        (out / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out

"""Shared fixtures: one session-scoped SparkSession (real Spark, real Delta), a sample of the
bundled corpus, and the reference lakehouse built from it once per session (sample -> silver ->
gold through the entry points; trained and scored once for the tests that need a model).

Tiers: everything under tests/system/ is marked ``system`` (it starts JVMs or processes beyond
the shared session: ``make test-system``); the rest is ``make test``. ``slow`` marks full-corpus
runs (``make test-slow``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# every job a test runs, in this process or a spark-submit child, reads the test-session settings
os.environ["REVIEWLAKE_CONFIG"] = str(ROOT / "tests" / "settings.yaml")
# relative paths resolve against the working directory (the checkout), whatever the shell exported
os.environ.pop("REVIEWLAKE_HOME", None)


def pytest_collection_modifyitems(config, items):
    system = ROOT / "tests" / "system"
    for item in items:
        if system in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.system)


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from reviewlake.core.config import load_config
    from reviewlake.core.spark import get_spark

    cfg = load_config(overrides=[f"lakehouse={tmp_path_factory.mktemp('lake_session')}"])
    session = get_spark(cfg)
    yield session
    session.stop()


@pytest.fixture
def make_cfg(tmp_path):
    """Config for one test: its own lakehouse/reports/models under tmp_path, plus overrides."""
    from reviewlake.core.config import load_config

    def _make(*overrides: str):
        return load_config(
            overrides=[
                f"lakehouse={tmp_path / 'lakehouse'}",
                f"reports_dir={tmp_path / 'reports'}",
                f"models_dir={tmp_path / 'models'}",
                *overrides,
            ]
        )

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


@pytest.fixture(scope="session")
def segmenter_spec():
    """The configured segmenter settings; fails when the ``jieba_c`` backend was not built."""
    from reviewlake.core.config import load_config
    from reviewlake.text.segment import SegmenterSpec, available_backends

    assert "jieba_c" in available_backends(), "reviewlake/text/_jieba_route.c not built: run `make setup`"
    return SegmenterSpec.from_config(load_config().segment)


@pytest.fixture(scope="session")
def small_landing(corpus_sample, tmp_path_factory) -> Path:
    """A small landing folder for tests that run a job many times: 40 lines of each sample file
    with three repeated, and a file with one undecodable line (quarantined)."""
    out = tmp_path_factory.mktemp("small_landing")
    for name in ("pos.txt", "neg.txt"):
        lines = (corpus_sample / name).read_text(encoding="utf-8").splitlines()[:40]
        (out / name).write_text("\n".join(lines + lines[:3]) + "\n", encoding="utf-8")
    (out / "bad.txt").write_bytes("好评，很满意\n".encode() + b"\xff\xfe\xfa bad\n")
    return out


@dataclass(frozen=True)
class Lake:
    """A lakehouse that jobs were run on: its folder, the job arguments that reach it (lakehouse,
    reports and models under ``root``) and the matching config."""

    root: Path
    args: list
    cfg: object

    @classmethod
    def at(cls, root: Path, *conf: str) -> Lake:
        from reviewlake.core.config import load_config

        settings = [f"reports_dir={root / 'reports'}", f"models_dir={root / 'models'}", *conf]
        args = ["--lakehouse", str(root / "lakehouse")] + [a for c in settings for a in ("--conf", c)]
        return cls(root, args, load_config(overrides=[f"lakehouse={root / 'lakehouse'}", *settings]))


@pytest.fixture(scope="session")
def reference_lake(spark, corpus_sample, tmp_path_factory) -> Lake:
    """``corpus_sample`` through ``clean_reviews`` and ``build_features`` (entry points, Data Docs
    on), once per session. Shared: tests read it; what they run on it must leave its tables as they
    are (a no-op rerun, a failing gate) or only add to them (models, predictions). Silver files of
    at most 100 rows, so its tables have several files as large ones do."""
    from reviewlake.jobs import build_features, clean_reviews

    lake = Lake.at(tmp_path_factory.mktemp("reference"), "quality.data_docs=true", "silver.rows_per_file=100")
    assert clean_reviews.main(["--input", str(corpus_sample), *lake.args]) == 0
    assert build_features.main(lake.args) == 0
    return lake


FAST_MODEL = ("train.epochs=2", "train.embedding_dim=32", "train.lstm_units=16")


@pytest.fixture(scope="session")
def trained_lake(reference_lake) -> Lake:
    """``reference_lake`` with a small model trained (Horovod on Spark, 2 processes) and every silver
    row scored with it, by the entry points, once per session."""
    from reviewlake.jobs import score_reviews, train_model

    args = [*reference_lake.args, *[a for c in FAST_MODEL for a in ("--conf", c)]]
    assert train_model.main(args) == 0
    assert score_reviews.main([*args, "--model-version", "latest"]) == 0
    return reference_lake

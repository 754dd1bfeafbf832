"""Integration tests of the clean_reviews and build_features jobs on a real corpus sample,
through their command-line entry points (real Spark, Delta and Great Expectations), read from the
session's reference lakehouse (tests/conftest.py)."""

from __future__ import annotations

import json
import re

import pytest
from pyspark.sql import functions as F

from reviewlake.core import delta_io, tables
from reviewlake.jobs import build_features, clean_reviews
from tests.integration.helpers import rows_by_spark_and


@pytest.fixture(scope="module")
def lake(reference_lake):
    """(args, cfg, root) of the reference lakehouse: the sample through clean_reviews and build_features."""
    return reference_lake.args, reference_lake.cfg, reference_lake.root


def table(spark, cfg, layer, name):
    return delta_io.read(spark, tables.uri(cfg, layer, name))


def test_every_record_is_accounted_for_exactly_once(spark, lake, corpus_sample):
    _, cfg, _ = lake
    lines = sum(
        1 for f in corpus_sample.iterdir() for line in f.read_text(encoding="utf-8").splitlines() if line.strip()
    )
    bronze = table(spark, cfg, "bronze", "reviews_raw")
    quarantine = table(spark, cfg, "bronze", "quarantine")
    disposition = table(spark, cfg, "silver", "disposition")
    silver = table(spark, cfg, "silver", "reviews")
    assert bronze.count() + quarantine.count() == lines
    assert disposition.count() == bronze.count()
    assert disposition.select("review_id").distinct().count() == bronze.count()
    kept = disposition.where("outcome = 'kept'").select("review_id")
    assert kept.exceptAll(silver.select("review_id")).count() == 0
    assert silver.count() == kept.count()
    # duplicates point at a survivor that is kept in silver
    dups = disposition.where("outcome = 'exact_duplicate'")
    assert dups.count() > 0  # the real corpus repeats itself
    assert dups.join(silver, dups.survivor_id == silver.review_id, "left_anti").count() == 0


@pytest.mark.parametrize("name", ["reviews", "disposition", "dedupe_index"])
def test_row_hash_is_the_hash_of_each_rows_content(spark, lake, name):
    """What an increment's MERGE compares stands for the row it is stored with."""
    _, cfg, _ = lake
    stored = table(spark, cfg, "silver", name)
    again = delta_io.with_row_hash(stored.drop(delta_io.ROW_HASH), ["review_id"])
    assert stored.count() > 0
    assert (
        stored.select("review_id", delta_io.ROW_HASH).exceptAll(again.select("review_id", delta_io.ROW_HASH)).count()
        == 0
    )


@pytest.mark.parametrize("name", ["reviews", "disposition", "dedupe_index"])
def test_silver_files_hold_at_most_rows_per_file(spark, lake, name):
    """An increment's MERGE reads every file holding a row it changes: the files stay small."""
    _, cfg, _ = lake
    per_file = table(spark, cfg, "silver", name).groupBy(F.input_file_name()).count().collect()
    assert len(per_file) > 1 and max(r["count"] for r in per_file) <= cfg.silver.rows_per_file == 100


def test_silver_rows_are_clean_and_segmented(spark, lake):
    _, cfg, _ = lake
    silver = table(spark, cfg, "silver", "reviews")
    assert silver.where(F.col("text").rlike("[\uff01-\uff5e]")).count() == 0  # no full-width ASCII left
    assert silver.where(F.size("tokens") == 0).count() == 0
    assert set(r.label for r in silver.select("label").distinct().collect()) == {"positive", "negative"}
    assert silver.select("text_hash").distinct().count() == silver.count()


def test_run_report_holds_per_stage_and_per_rule_figures(lake):
    _, cfg, root = lake
    # the run that built the lakehouse (later no-op reruns write reports of their own)
    runs = sorted(p for p in (root / "reports" / "runs" / "clean_reviews").glob("*.json") if p.name != "latest.json")
    report = json.loads(runs[0].read_text(encoding="utf-8"))
    names = [s["name"] for s in report["stages"]]
    assert names[:2] == ["ingest", "clean"] and "publish" in names
    assert list(report["summary"]["clean"]["rules"]) == list(cfg.clean.rules)
    assert (
        report["summary"]["ingest"]["records"]
        == report["summary"]["ingest"]["bronze_rows"] + report["summary"]["ingest"]["quarantined"]
    )
    assert (root / "reports" / "data_docs" / "index.html").exists()


def test_run_reports_count_their_spark_jobs_and_delta_commits(spark, lake):
    """summary.spark of the runs that built the lakehouse: Spark jobs counted by Spark's status
    tracker, Delta commits per table counted from the _delta_log, the latter checked against the
    tables' own history (the commits whose userMetadata names the run)."""
    _, cfg, root = lake
    from delta.tables import DeltaTable
    from pyspark.sql import functions as F

    for job, keys in (
        ("clean_reviews", ("silver", "disposition", "index")),
        ("build_features", ("vocab", "labels", "features")),
    ):
        runs = sorted(p for p in (root / "reports" / "runs" / job).glob("*.json") if p.name != "latest.json")
        report = json.loads(runs[0].read_text(encoding="utf-8"))
        work = report["summary"]["spark"]
        assert work["jobs"] >= 5, (job, work)
        assert work["delta_commits_total"] == sum(work["delta_commits"].values())
        uris = {t.key: t.uri(cfg) for t in tables.CATALOGUE}
        for key in keys:
            tagged = (
                DeltaTable.forPath(spark, uris[key])
                .history()
                .where(F.col("userMetadata").contains(report["run_id"]))
                .count()
            )
            assert work["delta_commits"].get(key, 0) == tagged >= 1, (job, key, work, tagged)


def test_tables_are_plain_delta_with_history(spark, lake):
    _, cfg, _ = lake
    from delta.tables import DeltaTable

    uri = tables.uri(cfg, "silver", "reviews")
    assert spark.read.format("delta").load(uri).count() > 0
    assert DeltaTable.forPath(spark, uri).history().count() >= 1


@pytest.mark.parametrize(
    "path", [t.path for t in tables.CATALOGUE if t.writer not in ("score_reviews", "label_issues")]
)
def test_every_table_reads_the_same_with_delta_rs(spark, lake, path):
    """pandas/Polars/DuckDB users read the tables with delta-rs: no table may need a reader feature
    it lacks (deletion vectors), and it must see the rows Spark sees (gold/predictions: in
    test_train_score.py; gold/label_issues: in test_label_issues.py)."""
    _, cfg, _ = lake
    by_spark, by_rs = rows_by_spark_and(spark, tables.BY_PATH[path].uri(cfg))
    assert by_rs == by_spark


@pytest.mark.parametrize("path", ["silver/reviews", "gold/features"])
def test_silver_and_gold_read_the_same_with_polars(spark, lake, path):
    """Polars (``pl.read_delta``, docs/tables.md) reads the tables analysts read: the rows Spark
    reads, every column (token lists, the TF-IDF struct, UTC timestamps) the same."""
    _, cfg, _ = lake
    by_spark, by_polars = rows_by_spark_and(spark, tables.BY_PATH[path].uri(cfg), "polars")
    assert by_polars == by_spark and len(by_spark) > 100


def test_rerun_with_nothing_new_changes_nothing(spark, lake, corpus_sample):
    args, cfg, _ = lake
    names = [("bronze", "reviews_raw"), ("silver", "reviews"), ("silver", "disposition"), ("gold", "features")]
    before = {n: delta_io.version(spark, tables.uri(cfg, *n)) for n in names}
    assert clean_reviews.main(["--input", str(corpus_sample), *args]) == 0
    assert build_features.main(args) == 0
    assert {n: delta_io.version(spark, tables.uri(cfg, *n)) for n in names} == before


def test_gold_split_vocab_and_sequences(spark, lake):
    _, cfg, _ = lake
    features = table(spark, cfg, "gold", "features")
    vocab = table(spark, cfg, "gold", "vocab")
    # max_len auto: the 95th percentile of the train split's token counts
    train_lengths = (
        features.where("split = 'train'")
        .join(table(spark, cfg, "silver", "reviews"), "review_id")
        .select(F.size("tokens").alias("n"))
        .toPandas()["n"]
    )
    max_len = features.select(F.size("token_ids")).first()[0]
    # the smallest length that at least 95% of the train rows do not exceed
    assert (train_lengths <= max_len).mean() >= 0.95 > (train_lengths < max_len).mean(), max_len
    assert features.where(F.size("token_ids") != max_len).count() == 0
    assert {r.split for r in features.select("split").distinct().collect()} == {"train", "validation", "test"}
    # no leakage: every vocabulary token occurs in the train split
    silver = table(spark, cfg, "silver", "reviews")
    train_tokens = (
        features.where("split = 'train'")
        .join(silver, "review_id")
        .select(F.explode("tokens").alias("token"))
        .distinct()
    )
    assert vocab.select("token").exceptAll(train_tokens).count() == 0
    assert vocab.agg(F.min("token_id")).first()[0] == 2


def test_failing_gate_blocks_publication_and_exits_non_zero(spark, lake, capsys):
    args, cfg, root = lake
    uri = tables.uri(cfg, "gold", "features")
    version_before = delta_io.version(spark, uri)
    held = lambda: set(spark.sparkContext._jsc.getPersistentRDDs().keys())  # noqa: E731
    held_before = held()
    # Data Docs off (the reference lakehouse has them on): the gate runs BOOLEAN_ONLY first
    code = build_features.main(
        [*args, "--force", "--conf", "quality.gold.min_rows=100000000", "--conf", "quality.data_docs=false"]
    )
    assert code == 3
    err = capsys.readouterr().err
    assert "expect_table_row_count_to_be_between" in err
    # the failed suite is rerun with SUMMARY to name the observed value
    assert re.search(r"expect_table_row_count_to_be_between\([^)]*\) observed=\d+", err), err
    assert delta_io.version(spark, uri) == version_before
    # the staged outputs held in memory are released although the run failed
    assert held() <= held_before
    # the output that failed its suite is kept under staging for inspection, and only that one
    kept = list((root / "lakehouse" / "_staging").glob("*/gold/*"))
    assert [p.name for p in kept] == ["features"]
    assert delta_io.read(spark, str(kept[0])).count() > 0


def test_missing_input_is_a_usage_error(tmp_path, spark, capsys):
    code = clean_reviews.main(
        [
            "--input",
            str(tmp_path / "nope"),
            "--lakehouse",
            str(tmp_path / "lake"),
            "--conf",
            f"reports_dir={tmp_path / 'reports'}",
        ]
    )
    assert code == 2
    assert "input not found" in capsys.readouterr().err

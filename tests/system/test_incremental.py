"""Incremental runs: batches arriving over several runs give the same silver and gold as one run
over all files; a near copy of a published review arriving in a later batch points at the
published one; a rerun is a no-op; a changed file replaces its records; a near copy arriving later
but written earlier becomes the survivor exactly as a rebuild would make it. (System tier for its
cost: eight runs of clean_reviews.)"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from reviewlake.jobs import build_features, clean_reviews
from tests.integration.helpers import comparable, versions

OLD = "这家酒店的位置很好，离火车站很近，房间干净整洁，早餐品种丰富，服务员态度热情，下次出差还会再来住"
NEAR = OLD.replace("丰富", "很多") + "！"
BRIDGE = OLD.replace("丰富", "很多").replace("热情", "很好")  # near NEAR, joins the cluster


def review(rid: str, text: str, rating: int, when: str) -> str:
    return json.dumps({"id": rid, "text": text, "rating": rating, "created_at": when}, ensure_ascii=False)


def write_batches(corpus_sample: Path, root: Path) -> list[Path]:
    """Three landing batches: thirds of the real sample (with its duplicates spread across them)
    and planted reviews whose survivor changes when a later batch brings an earlier review."""
    batches = [root / f"day{i}" for i in (1, 2, 3)]
    for b in batches:
        b.mkdir(parents=True)
    for name in ("pos.txt", "neg.txt"):
        lines = (corpus_sample / name).read_text(encoding="utf-8").splitlines()
        for i, b in enumerate(batches):
            (b / name).write_text("\n".join(lines[i::3]) + "\n", encoding="utf-8")
    (batches[0] / "shop.jsonl").write_text(review("r-old", OLD, 5, "2024-05-01 08:00:00") + "\n", encoding="utf-8")
    (batches[1] / "shop.jsonl").write_text(review("r-near", NEAR, 1, "2024-06-01 08:00:00") + "\n", encoding="utf-8")
    (batches[2] / "shop.jsonl").write_text(review("r-early", BRIDGE, 5, "2024-01-01 08:00:00") + "\n", encoding="utf-8")
    return batches


def snapshot(spark, lake: Path, layer: str, name: str, drop=("batch_id", "row_hash")):
    return comparable(spark, lake, layer, name, drop)


def job_args(landing: Path, lake: Path, reports: Path) -> list[str]:
    return ["--input", str(landing), "--lakehouse", str(lake), "--conf", f"reports_dir={reports}"]


def assert_same_lake(spark, a: Path, b: Path) -> None:
    for layer, name in (("silver", "reviews"), ("silver", "disposition")):
        assert_df_equality(
            snapshot(spark, a, layer, name),
            snapshot(spark, b, layer, name),
            ignore_row_order=True,
            ignore_column_order=True,
            ignore_nullable=True,
        )


@pytest.fixture(scope="module")
def runs(spark, corpus_sample, tmp_path_factory):
    """Lake ``inc`` fed one batch per run; lake ``one`` fed everything in one run."""
    root = tmp_path_factory.mktemp("incremental")
    batches = write_batches(corpus_sample, root / "batches")
    landing = root / "landing"
    landing.mkdir()
    for b in batches:
        shutil.copytree(b, landing / b.name)
        assert clean_reviews.main(job_args(landing, root / "inc", root / "r")) == 0
        if b.name == "day2":
            # a near copy of an already published review, arriving later, points at the old one
            ledger = {r.review_id: r for r in snapshot(spark, root / "inc", "silver", "disposition").collect()}
            assert (ledger["r-old"].outcome, ledger["r-near"].outcome, ledger["r-near"].survivor_id) == (
                "kept",
                "near_duplicate",
                "r-old",
            )
            silver = snapshot(spark, root / "inc", "silver", "reviews").where(
                F.col("review_id").isin("r-old", "r-near")
            )
            assert [(r.review_id, len(r.minhash_bands) > 0) for r in silver.collect()] == [("r-old", True)]
    assert clean_reviews.main(job_args(landing, root / "one", root / "r")) == 0
    return root, landing


def test_three_batches_over_three_runs_equal_one_run(spark, runs):
    root, _ = runs
    assert_same_lake(spark, root / "inc", root / "one")
    ledger = {r.review_id: r for r in snapshot(spark, root / "inc", "silver", "disposition").collect()}
    # the earliest review arrived last and became the survivor of all three
    assert ledger["r-early"].outcome == "kept"
    assert {ledger[i].survivor_id for i in ("r-old", "r-near")} == {"r-early"}
    # gold built from either lake is the same
    for lake in ("inc", "one"):
        assert build_features.main(["--lakehouse", str(root / lake), "--conf", f"reports_dir={root / 'r'}"]) == 0
    assert_df_equality(
        snapshot(spark, root / "inc", "gold", "features"),
        snapshot(spark, root / "one", "gold", "features"),
        ignore_row_order=True,
        ignore_column_order=True,
        ignore_nullable=True,
    )


def last_report(root: Path) -> dict:
    return json.loads((root / "r" / "runs" / "clean_reviews" / "latest.json").read_text(encoding="utf-8"))


def test_rerun_is_a_no_op(spark, runs):
    root, landing = runs
    before = versions(spark, root / "inc")
    # nothing changed since the last run's recorded state: decided without Spark
    assert clean_reviews.main(job_args(landing, root / "inc", root / "r")) == 0
    assert versions(spark, root / "inc") == before
    assert last_report(root)["stages"][0]["detail"]["skipped"]
    # the full path decides the same: without the state file, and with a file touched (its mtime
    # moved, its bytes did not: hashed again, found known)
    (root / "inc" / "_state" / "clean_reviews.json").unlink()
    assert clean_reviews.main(job_args(landing, root / "inc", root / "r")) == 0
    assert versions(spark, root / "inc") == before
    assert "skipped" not in last_report(root)["stages"][0]["detail"]
    touched = landing / "day3" / "neg.txt"
    os.utime(touched, (touched.stat().st_atime, touched.stat().st_mtime + 60))
    assert clean_reviews.main(job_args(landing, root / "inc", root / "r")) == 0
    assert versions(spark, root / "inc") == before
    detail = last_report(root)["stages"][0]["detail"]
    assert detail["hashed_files"] == 1 and detail["new_files"] == 0


def test_changed_file_replaces_its_records(spark, runs):
    root, landing = runs
    day1 = landing / "day1" / "pos.txt"
    lines = day1.read_text(encoding="utf-8").splitlines()
    day1.write_text(
        "\n".join(["一个全新的评论，质量非常好，物流也很快，推荐购买"] + lines[2:]) + "\n", encoding="utf-8"
    )
    (landing / "day2" / "shop.jsonl").write_text("", encoding="utf-8")  # r-near withdrawn
    assert clean_reviews.main(job_args(landing, root / "inc", root / "r")) == 0
    assert clean_reviews.main(job_args(landing, root / "fresh", root / "r")) == 0
    assert_same_lake(spark, root / "inc", root / "fresh")
    bronze = snapshot(spark, root / "inc", "bronze", "reviews_raw")
    assert bronze.where(bronze.review_id == "r-near").count() == 0
    new_lines = [line for line in day1.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert bronze.where(F.col("source_file").endswith("/day1/pos.txt")).count() == len(new_lines)

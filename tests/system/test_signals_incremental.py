"""Soft signals across runs: an increment that adds copies of a published review under new
products by new users turns its cluster into a template, and its silver, ledger and index equal
one run over everything; a lakehouse written before the signal columns existed is rebuilt by its
next run, with one warning. (System tier for its cost: five runs of clean_reviews.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from reviewlake.core import delta_io, tables
from reviewlake.core.config import load_config
from reviewlake.jobs import clean_reviews
from reviewlake.text.signals import COUNTS, SCORES
from tests.integration.helpers import assert_same_tables, comparable

TEMPLATE = "这款保温杯质量很好，保温效果不错，外观也漂亮，物流很快，包装完好，推荐大家购买"
NEAR = TEMPLATE + "，好评"  # a near copy (Jaccard of the shingles 0.94)
OTHERS = [
    "房间很干净，服务员态度热情，早餐品种丰富，下次还会入住",
    "这本书的印刷质量很差，纸张发黄，错别字很多，非常失望",
    "哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈哈",  # repetitive
]
TABLES = (("silver", "reviews"), ("silver", "disposition"), ("silver", "dedupe_index"))


def review(rid: str, text: str, product: str | None, user: str | None, when: str) -> str:
    row = {"id": rid, "text": text, "rating": 5, "created_at": when, "product_id": product, "user_id": user}
    return json.dumps(row, ensure_ascii=False)


def write(folder: Path, *rows: str) -> None:
    folder.mkdir(parents=True)
    (folder / "reviews.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")


def run(landing: Path, lake: Path, root: Path) -> None:
    args = ["--input", str(landing), "--lakehouse", str(lake), "--conf", f"reports_dir={root / 'r'}"]
    assert clean_reviews.main([*args, "--conf", "signals.template_min=3"]) == 0


def survivor(spark, lake: Path, rid: str):
    silver = comparable(spark, lake, "silver", "reviews")
    return silver.where(F.col("review_id") == rid).select(*COUNTS, "quality_flags").first()


@pytest.fixture(scope="module")
def days(tmp_path_factory):
    root = tmp_path_factory.mktemp("signals")
    landing = root / "landing"
    write(
        landing / "day1",
        review("t1", TEMPLATE, "p1", "u1", "2024-01-01 08:00:00"),
        review("t2", TEMPLATE, "p2", "u2", "2024-01-02 08:00:00"),
        *[review(f"o{i}", text, f"p{i}", f"u{i}", "2024-01-03 08:00:00") for i, text in enumerate(OTHERS)],
    )
    return root, landing


def test_copies_arriving_later_make_a_template_as_one_run_does(spark, days):
    root, landing = days
    run(landing, root / "inc", root)
    assert tuple(survivor(spark, root / "inc", "t1")) == (2, 2, [])
    assert survivor(spark, root / "inc", "o2").quality_flags == ["repetitive"]
    write(
        landing / "day2",
        review("t3", NEAR, "p3", "u3", "2024-02-01 08:00:00"),  # a near copy under a third product
        review("t4", TEMPLATE, None, None, "2024-02-02 08:00:00"),  # no ids: counts nothing
    )
    run(landing, root / "inc", root)
    assert tuple(survivor(spark, root / "inc", "t1")) == (3, 3, ["template"])
    run(landing, root / "one", root)
    assert_same_tables(spark, root / "inc", root / "one", TABLES)


def test_a_lakehouse_without_the_signal_columns_is_rebuilt(spark, days, capsys):
    root, landing = days
    if not (root / "one").exists():
        pytest.skip("needs the lakehouse of the test above")
    cfg = load_config(overrides=[f"lakehouse={root / 'one'}"])
    for layer, name in TABLES[:1] + TABLES[2:]:  # silver and the index as an older version wrote them
        uri = tables.uri(cfg, layer, name)
        old = delta_io.read(spark, uri).drop(*SCORES, *COUNTS, "quality_flags").localCheckpoint()
        delta_io.overwrite(old, uri)
    write(landing / "day3", review("n1", "物流很快，东西不错，和描述的一样，好评", "p7", "u7", "2024-03-01 08:00:00"))
    capsys.readouterr()
    run(landing, root / "one", root)
    assert "rebuilding silver from all of bronze" in capsys.readouterr().err
    run(landing, root / "fresh", root)
    assert_same_tables(spark, root / "one", root / "fresh", TABLES)

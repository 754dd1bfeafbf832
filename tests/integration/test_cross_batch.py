"""A near copy of an already published review, arriving in a later batch, becomes a
near-duplicate of the old review (not the other way round), and the ledger stays complete."""
from __future__ import annotations

import json

from pipelines import clean_reviews
from pipelines.core import delta_io
from pipelines.core.config import load_config

OLD = "这家酒店的位置很好，离火车站很近，房间干净整洁，早餐品种丰富，服务员态度热情，下次出差还会再来住"
NEW = OLD.replace("丰富", "很多") + "！"


def test_later_near_copy_points_at_the_earlier_review(spark, tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    args = ["--input", str(landing), "--lakehouse", str(tmp_path / "lake"), "--conf", f"reports_dir={tmp_path / 'r'}"]
    (landing / "day1.jsonl").write_text(json.dumps(
        {"id": "old", "text": OLD, "rating": 5, "created_at": "2024-05-01 08:00:00"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    assert clean_reviews.main(args) == 0
    (landing / "day2.jsonl").write_text(json.dumps(
        {"id": "new", "text": NEW, "rating": 5, "created_at": "2024-06-01 08:00:00"}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    assert clean_reviews.main(args) == 0
    cfg = load_config(overrides=[f"lakehouse={tmp_path / 'lake'}"])
    ledger = {r.review_id: r for r in delta_io.read(spark, delta_io.table_uri(cfg, "silver", "disposition")).collect()}
    assert (ledger["old"].outcome, ledger["new"].outcome, ledger["new"].survivor_id) == ("kept", "near_duplicate", "old")
    silver = delta_io.read(spark, delta_io.table_uri(cfg, "silver", "reviews")).collect()
    assert [r.review_id for r in silver] == ["old"] and len(silver[0].minhash_bands) > 0

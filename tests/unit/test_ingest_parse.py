"""Parsing of landing files (pure Python, no Spark)."""
from __future__ import annotations

import json

import pytest

from reviewlake.lake.ingest_parse import FileParser, detect_encoding, stable_id

OPTIONS = {"format": "auto", "encoding": "auto", "max_record_bytes": 1000,
           "label_from_filename": {"pos": "positive", "neg": "negative"},
           "from_rating": {1: "negative", 5: "positive"}}


def parse(name: str, content: bytes, **opts):
    return FileParser({**OPTIONS, **opts}).parse(f"file:/landing/{name}", content)


def test_txt_lines_get_label_from_file_name_and_byte_offsets():
    content = "好评\n\n差评啊\n".encode("utf-8")
    records = parse("pos.txt", content)
    assert [(r["raw_text"], r["label_raw"], r["record_offset"]) for r in records] == [
        ("好评", "positive", 0), ("差评啊", "positive", len("好评\n\n".encode()))]
    assert records[0]["review_id"] == stable_id("file:/landing/pos.txt", 0)


def test_gbk_file_is_detected_and_decoded():
    content = "质量不错，物流很快\n".encode("gbk")
    assert detect_encoding(content) == "gb18030"
    assert parse("neg.txt", content)[0]["raw_text"] == "质量不错，物流很快"


def test_utf8_bom_is_dropped():
    records = parse("pos.txt", "\ufeff很好\n".encode("utf-8"))
    assert records[0]["raw_text"] == "很好"


def test_jsonl_maps_known_fields_and_keeps_the_rest_in_extra():
    line = json.dumps({"id": "r1", "content": "不错", "star": 5, "sku": "p9", "shop": "A"}, ensure_ascii=False)
    (record,) = parse("a.jsonl", line.encode("utf-8"))
    assert (record["review_id"], record["raw_text"], record["rating"], record["product_id"]) == ("r1", "不错", 5, "p9")
    assert record["extra"] == {"shop": "A"}


@pytest.mark.parametrize("line, reason", [
    (b'{"text": "ok"', "malformed_json"),
    (b'["not", "an", "object"]', "malformed_json"),
    (b'{"rating": 5}', "missing_text"),
    (b'{"text": "ok", "rating": "five"}', "bad_rating"),
    (b'{"text": "ok", "rating": 9}', "rating_out_of_range"),
    (b'{"text": 42}', "bad_text_type"),
    (b'{"text": "ok", "created_at": "yesterday"}', "bad_created_at"),
])
def test_bad_jsonl_records_are_quarantined_with_reason(line, reason):
    good = b'{"text": "fine"}'
    records = parse("a.jsonl", good + b"\n" + line + b"\n" + good)
    assert [r["quarantine_reason"] for r in records] == [None, reason, None]
    assert records[1]["raw_record"] == line
    assert records[1]["record_offset"] == len(good) + 1


def test_oversized_record_is_quarantined():
    big = json.dumps({"text": "长" * 2000}, ensure_ascii=False).encode("utf-8")
    (record,) = parse("a.jsonl", big)
    assert record["quarantine_reason"] == "record_too_large"
    assert len(record["raw_record"]) == 1000


def test_csv_with_header_quoted_commas_and_newlines():
    content = 'id,text,rating\n1,"好,很好",5\n2,"第一行\n第二行",1\n'.encode("utf-8")
    records = parse("r.csv", content)
    assert [(r["review_id"], r["raw_text"], r["rating"]) for r in records] == [
        ("1", "好,很好", 5), ("2", "第一行\n第二行", 1)]
    assert records[1]["record_offset"] == content.index(b"2,")


def test_csv_row_with_wrong_field_count_is_quarantined():
    records = parse("r.csv", b"id,text\n1,ok\n2,ok,extra\n3,fine\n")
    assert [r["quarantine_reason"] for r in records] == [None, "malformed_csv", None]


def test_binary_file_is_quarantined_whole():
    (record,) = parse("x.txt", b"\x00\x01\x02binary")
    assert record["quarantine_reason"] == "binary_file"


def test_parquet_rows(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "r.parquet"
    pq.write_table(pa.table({"review": ["好", None], "score": [4, 2]}), path)
    records = parse("r.parquet", path.read_bytes())
    assert [(r["raw_text"], r["rating"], r["quarantine_reason"]) for r in records] == [
        ("好", 4, None), (None, None, "missing_text")]

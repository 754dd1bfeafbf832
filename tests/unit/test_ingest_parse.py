"""Parsing of landing files (pure Python, no Spark)."""

from __future__ import annotations

import dataclasses
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewlake.core.config import load_config
from reviewlake.lake.ingest_parse import FileParser, ReadOptions, _lines, detect_encoding, split_format, stable_id

OPTIONS = ReadOptions.of(
    load_config(
        site=False,
        overrides=[
            "ingest.max_record_bytes=1000",
            "ingest.label_from_filename={pos: positive, neg: negative}",
            "labels.from_rating={1: negative, 5: positive}",
        ],
    )
)


def options(**ingest) -> ReadOptions:
    """OPTIONS with some ``ingest`` settings changed."""
    return dataclasses.replace(OPTIONS, ingest=dataclasses.replace(OPTIONS.ingest, **ingest))


def parse(name: str, content: bytes, **opts):
    return FileParser(options(**opts)).parse(f"file:/landing/{name}", content)


def test_txt_lines_get_label_from_file_name_and_byte_offsets():
    content = "好评\n\n差评啊\n".encode()
    records = parse("pos.txt", content)
    assert [(r["raw_text"], r["label_raw"], r["record_offset"]) for r in records] == [
        ("好评", "positive", 0),
        ("差评啊", "positive", len("好评\n\n".encode())),
    ]
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


@pytest.mark.parametrize(
    "line, reason",
    [
        (b'{"text": "ok"', "malformed_json"),
        (b'["not", "an", "object"]', "malformed_json"),
        (b'{"rating": 5}', "missing_text"),
        (b'{"text": "ok", "rating": "five"}', "bad_rating"),
        (b'{"text": "ok", "rating": 9}', "rating_out_of_range"),
        (b'{"text": 42}', "bad_text_type"),
        (b'{"text": "ok", "created_at": "yesterday"}', "bad_created_at"),
    ],
)
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
    content = 'id,text,rating\n1,"好,很好",5\n2,"第一行\n第二行",1\n'.encode()
    records = parse("r.csv", content)
    assert [(r["review_id"], r["raw_text"], r["rating"]) for r in records] == [
        ("1", "好,很好", 5),
        ("2", "第一行\n第二行", 1),
    ]
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
        ("好", 4, None),
        (None, None, "missing_text"),
    ]


# --------------------------------------------------------------------------- compressed files
def _zstd(data: bytes) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as out:
        out.write(data)
    return sink.getvalue().to_pybytes()


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def _compressors():
    import bz2
    import gzip

    return {"gz": gzip.compress, "bz2": bz2.compress, "zst": _zstd}


JSONL = (
    '{"text": "好用", "label": "pos"}\n{bad json\n'
    + json.dumps({"text": "长" * 2000}, ensure_ascii=False)
    + '\n{"text": "差", "label": "neg"}\n'
).encode("utf-8")


def _summary(records):
    return [(r["record_offset"], r["raw_text"], r["label_raw"], r["quarantine_reason"]) for r in records]


@pytest.mark.parametrize("ext", ["gz", "bz2", "zst"])
def test_a_compressed_file_gives_the_records_of_its_content(ext):
    """Offsets count in the decompressed bytes; a malformed and an oversized record inside are
    quarantined as in a plain file, and ids are stable per (landing file, offset)."""
    plain = parse("r.jsonl", JSONL)
    packed = parse(f"r.jsonl.{ext}", _compressors()[ext](JSONL))
    assert _summary(packed) == _summary(plain)
    assert [r["quarantine_reason"] for r in packed] == [None, "malformed_json", "record_too_large", None]
    assert {r["source_file"] for r in packed} == {f"file:/landing/r.jsonl.{ext}"}
    assert packed[0]["review_id"] == stable_id(f"file:/landing/r.jsonl.{ext}", 0)


@pytest.mark.parametrize("ext", ["gz", "bz2", "zst", "zip"])
def test_a_corrupt_archive_is_one_quarantined_record(ext):
    whole = _zip({"r.jsonl": JSONL}) if ext == "zip" else _compressors()[ext](JSONL)
    truncated = whole[: len(whole) // 2]
    (record,) = parse(f"r.jsonl.{ext}" if ext != "zip" else "r.zip", truncated)
    assert record["quarantine_reason"] == "corrupt_archive" and record["record_offset"] == 0
    assert record["raw_record"] == truncated[:1000]


def test_a_five_mib_line_inside_a_gzip_file_is_quarantined_and_the_rest_parsed():
    import gzip

    content = ('{"text": "好"}\n' + json.dumps({"text": "x" * (5 << 20)}) + '\n{"text": "差"}\n').encode("utf-8")
    records = FileParser(options(max_record_bytes=1 << 20)).parse("file:/landing/big.jsonl.gz", gzip.compress(content))
    assert [r["quarantine_reason"] for r in records] == [None, "record_too_large", None]
    assert [r["raw_text"] for r in records] == ["好", None, "差"] and len(records[1]["raw_record"]) == 1 << 20


def test_a_zip_archive_gives_each_members_records_with_unique_offsets():
    import gzip

    from reviewlake.lake.ingest_parse import ZIP_MEMBER_SHIFT

    archive = _zip(
        {
            "dir/pos.txt": "很好\n不错\n".encode(),
            "more.jsonl.gz": gzip.compress(JSONL),
            "__MACOSX/._pos.txt": b"\x00junk",
            "dir/": b"",
        }
    )
    records = parse("all.zip", archive)
    base = 1 << ZIP_MEMBER_SHIFT
    assert _summary(records) == [
        (0, "很好", "positive", None),
        (7, "不错", "positive", None),
        *[(base + o, t, lbl, q) for o, t, lbl, q in _summary(parse("r.jsonl", JSONL))],
    ]
    assert len({r["record_offset"] for r in records}) == len(records)
    assert {r["source_file"] for r in records} == {"file:/landing/all.zip"}
    again = parse("all.zip", archive)
    assert [r["review_id"] for r in again] == [r["review_id"] for r in records]


def test_a_zip_inside_a_zip_is_quarantined_and_its_siblings_parsed():
    from reviewlake.lake.ingest_parse import ZIP_MEMBER_SHIFT

    archive = _zip({"pos.txt": "很好\n".encode(), "inner.zip": _zip({"neg.txt": "很差\n".encode()})})
    records = parse("outer.zip", archive)
    assert _summary(records) == [(0, "很好", "positive", None), (1 << ZIP_MEMBER_SHIFT, None, None, "nested_archive")]


@pytest.mark.parametrize(
    "name, fmt",
    [
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("pos.txt", "txt"),
        ("a.jsonl.gz", "jsonl"),
        ("a.txt.bz2", "txt"),
        ("a.parquet", "parquet"),
        ("a.csv", None),
        ("a.parquet.gz", None),
        ("a.jsonl.zst", None),
        ("a.zip", None),
        ("a.jsonl.GZ", None),
        ("a.jsonl.gzip", None),
        ("notes.xyz", None),
    ],
)
def test_split_format_names_the_files_spark_reads_in_pieces(name, fmt):
    assert split_format(f"file:/landing/{name}", OPTIONS) == fmt


LINE_PIECES = [
    '{"id": "a", "text": "好评"}',
    '{"text": "没有编号"}\r',
    "",
    "   ",
    '{"text": "坏',
    '{"text": 5}',
    '{"text": "' + "长" * 400 + '"}',
    "\ufeff" + '{"text": "中间的BOM"}',
    '{"text": "末行"}',
]


CSV_PIECES = [
    "review_id,comment,rating",
    "c1,好评,5",
    'c2,"带,逗号",4\r',
    ",,",
    "c3,多了一列,4,oops",
    'c4,"引号"后面,3',
    "c5,评分不对,five",
    "c6," + "长" * 400 + ",1",
    "只有一列",
    "",
]


@settings(max_examples=80, deadline=None)
@given(
    st.data(),
    st.booleans(),
    st.sets(st.integers(0, 12)),
    st.sampled_from(["utf-8", "gb18030"]),
    st.sampled_from(["r.jsonl", "pos.txt", "r.csv", "r.tsv"]),
)
def test_lines_parsed_in_any_pieces_give_the_whole_files_records(data, bom, cuts, encoding, name):
    """A file cut into runs of lines anywhere (as Spark's byte ranges cut it), each run parsed
    from its first line's offset, gives exactly the records of the whole-file parse (a CSV file
    with no newline inside a field: its header found in its first bytes)."""
    pieces = CSV_PIECES if name.endswith("sv") else LINE_PIECES
    lines = data.draw(st.lists(st.sampled_from(pieces), max_size=12))
    if name.endswith(".tsv"):
        lines = [line.replace(",", "\t") for line in lines]
    content = ("\ufeff" if bom and encoding == "utf-8" else "").encode() + "\n".join(lines).encode(encoding)
    uri = f"file:/landing/{name}"
    whole = FileParser(OPTIONS).parse(uri, content)
    fmt = split_format(uri, options(csv_quoted_newlines=False))
    numbered = list(_lines(content))
    bounds = [0, *sorted(c for c in cuts if c < len(numbered)), len(numbered)]
    parser = FileParser(OPTIONS)
    header = parser.csv_header(name, content + b"\n", detect_encoding(content)) if fmt == "csv" else None
    pieces = [
        r
        for lo, hi in itertools.pairwise(bounds)
        for r in parser.parse_lines(uri, name, fmt, detect_encoding(content), numbered[lo:hi], header)
    ]
    assert pieces == whole


# --------------------------------------------------------------------------- decompression caps
def _members(codec: str, data: bytes, copies: int) -> bytes:
    """``copies`` concatenated gzip members, bzip2 streams or zstd frames of ``data``: one stream
    of ``copies`` x ``data``, built without holding it."""
    return _compressors()[codec](data) * copies


def _ratio(packed: bytes, inflated: int) -> float:
    return inflated / len(packed)


@pytest.mark.parametrize("ext", ["gz", "bz2", "zst"])
def test_a_file_over_the_inflated_bytes_cap_is_quarantined_and_one_at_it_parsed(ext):
    line = json.dumps({"text": "好评"}, ensure_ascii=False).encode() + b"\n"
    packed = _members(ext, line * 1000, 10)  # 10,000 lines
    size = len(line) * 10000
    caps = {"max_inflation_ratio": 1e9, "inflation_grace_bytes": 0}
    at = parse(f"r.jsonl.{ext}", packed, max_inflated_bytes=size, **caps)
    assert len(at) == 10000 and {r["quarantine_reason"] for r in at} == {None}
    (over,) = parse(f"r.jsonl.{ext}", packed, max_inflated_bytes=size - 1, **caps)
    assert (over["quarantine_reason"], over["record_offset"]) == ("inflated_too_large", 0)
    assert over["raw_record"] == packed[:1000]  # the stored bytes, as for a corrupt archive


@pytest.mark.parametrize("ext", ["gz", "bz2", "zst"])
def test_a_file_over_the_inflation_ratio_is_quarantined_and_one_just_under_it_parsed(ext):
    packed = _members(ext, b"   \n" * 50000, 4)  # blanks: no records, a high ratio
    ratio = _ratio(packed, 4 * 4 * 50000)
    assert ratio > 20
    caps = {"max_inflated_bytes": 1 << 30, "inflation_grace_bytes": 0}
    assert parse(f"r.txt.{ext}", packed, max_inflation_ratio=ratio * 1.001, **caps) == []
    (over,) = parse(f"r.txt.{ext}", packed, max_inflation_ratio=ratio * 0.999, **caps)
    assert over["quarantine_reason"] == "inflated_too_large"
    # under the grace size the ratio is not held against a file
    assert parse(f"r.txt.{ext}", packed, max_inflation_ratio=1, inflation_grace_bytes=4 * 4 * 50000) == []


def test_the_default_caps_pass_compressed_text_and_refuse_a_blank_bomb_over_the_grace_size():
    import gzip

    honest = "".join(
        json.dumps({"id": f"r{i}", "text": f"第{i}条评论"}, ensure_ascii=False) + "\n" for i in range(5000)
    )
    assert len(parse("r.jsonl.gz", gzip.compress(honest.encode()))) == 5000
    bomb = _members("gz", b" " * (1 << 20), 80)  # 80 MiB of blanks in 80 KiB: 1000x
    (record,) = parse("r.jsonl.gz", bomb)
    assert record["quarantine_reason"] == "inflated_too_large"


def test_a_zip_bomb_member_is_quarantined_and_the_good_members_parsed():
    from reviewlake.lake.ingest_parse import ZIP_MEMBER_SHIFT

    archive = _zip({"pos.txt": "很好\n".encode(), "bomb.txt": b" " * (8 << 20), "neg.txt": "很差\n".encode()})
    records = parse("all.zip", archive, max_inflated_bytes=1 << 20)
    assert _summary(records) == [
        (0, "很好", "positive", None),
        (1 << ZIP_MEMBER_SHIFT, None, None, "inflated_too_large"),
        (2 << ZIP_MEMBER_SHIFT, "很差", "negative", None),
    ]
    # by the ratio (a compressed member inside: its own ratio counts too), the defaults otherwise
    archive = _zip({"pos.txt": "很好\n".encode(), "bomb.txt.gz": _members("gz", b" " * (1 << 20), 8)})
    records = parse("all.zip", archive, inflation_grace_bytes=1 << 20)
    assert [r["quarantine_reason"] for r in records] == [None, "inflated_too_large"]


def test_a_zip_stops_inflating_once_its_members_together_pass_the_cap():
    members = {f"{i}.txt": f"第{i}条\n".encode() + b" " * (300 << 10) for i in range(5)}
    records = parse("all.zip", _zip(members), max_inflated_bytes=1 << 20)  # each member under, not all
    assert [r["quarantine_reason"] for r in records] == [None, None, None, "inflated_too_large", "inflated_too_large"]


def test_a_gigabyte_of_zeros_is_refused_after_reading_about_the_cap():
    """1 GiB of zeros in 1 MiB of gzip: refused once it passes 100x its size (the default ratio),
    never holding much more than that (tracemalloc's peak; the old whole-file gzip.decompress held
    the whole GiB)."""
    import tracemalloc

    from reviewlake.lake.ingest_parse import decompress

    bomb = _members("gz", bytes(1 << 20), 1024)
    limit = OPTIONS.ingest.inflation_limit(len(bomb))
    assert 100 << 20 < limit < 110 << 20
    tracemalloc.start()
    try:
        (record,) = parse("zeros.jsonl.gz", bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert record["quarantine_reason"] == "inflated_too_large"
    assert peak < limit * 1.25, peak  # the buffer grows by 1/8 at a time
    assert decompress("gzip", bomb, limit=limit) is None
    assert len(decompress("gzip", bomb[: len(bomb) // 1024], limit=1 << 20)) == 1 << 20

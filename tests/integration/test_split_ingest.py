"""Large line files read in byte ranges, and Parquet files by row groups, across tasks give exactly
the records of a whole-file read."""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import hashlib
import json
import random
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import functions as F

from reviewlake.core.config import load_config
from reviewlake.lake import ingest, ingest_lines, ingest_rows
from reviewlake.lake.ingest_parse import ReadOptions
from tests.integration.test_hostile_input import write_landing

RANGE = 64 * 1024  # spark.sql.files.maxPartitionBytes here: every file below spans several ranges


def many_lines(n: int, seed: int) -> bytes:
    """JSON Lines with CRLF and LF endings, blank lines, malformed and id-less records, no final LF."""
    rng = random.Random(seed)
    lines = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.05:
            lines.append(b"")
        elif roll < 0.08:
            lines.append(b'{"text": "broken')
        else:
            row = {"text": f"第{i}条评论{rng.getrandbits(64):x}", "star": rng.randint(1, 5)}
            if roll < 0.5:
                row["id"] = f"m{seed}-{i}"
            lines.append(json.dumps(row, ensure_ascii=False).encode("utf-8") + (b"\r" if roll > 0.9 else b""))
    return b"\n".join(lines)


def many_rows(path, n: int) -> None:
    """A Parquet file of ``n`` rows in row groups of 500: ids on some, bad ratings, an instant
    (UTC-adjusted timestamp) and a local time, a list column."""
    start = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    table = pa.table(
        {
            "review_id": [f"q{i}" if i % 3 else None for i in range(n)],
            "comment": [f"第{i}条评论，还行" if i % 50 else None for i in range(n)],
            "rating": [i % 7 for i in range(n)],  # 0 and 6: rating_out_of_range
            "created_at": pa.array([start + timedelta(minutes=i) for i in range(n)], pa.timestamp("us", tz="UTC")),
            "local_time": pa.array([datetime(2026, 3, 1) + timedelta(seconds=i) for i in range(n)], pa.timestamp("us")),
            "tags": [["好", str(i)] for i in range(n)],
        }
    )
    pq.write_table(table, path, row_group_size=500)


def with_ingest(options: ReadOptions, **ingest) -> ReadOptions:
    return dataclasses.replace(options, ingest=dataclasses.replace(options.ingest, **ingest))


def records(spark, files, options, split_min):
    options = with_ingest(options, split_min_bytes=split_min)
    whole, in_pieces, _ = ingest.plan_reads(files, options, ingest.read_limit(spark))
    scans = ingest.scan_files(spark, in_pieces, options)
    read = ingest.read_records(spark, [f[0] for f in whole + in_pieces if f[1] > 0], scans, options)
    return len(in_pieces), sorted((tuple(r) for r in read.collect()), key=repr)


def test_files_read_in_pieces_give_the_records_ids_and_quarantine_of_a_whole_read(spark, tmp_path):
    write_landing(tmp_path)  # every hostile file, a 5 MiB line among them
    (tmp_path / "many.jsonl").write_bytes(b"\xef\xbb\xbf" + many_lines(6000, 1))  # Hadoop drops the BOM
    (tmp_path / "more.jsonl.gz").write_bytes(gzip.compress(many_lines(3000, 2)))
    (tmp_path / "most.jsonl.bz2").write_bytes(bz2.compress(many_lines(20000, 3), compresslevel=1))
    (tmp_path / "neg.txt").write_bytes("\n".join(f"第{i}条差评，很不满意" for i in range(8000)).encode("gbk"))
    many_rows(tmp_path / "rows.parquet", 6000)
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really" * 100)
    files = ingest.list_files(spark, [f"file:{tmp_path}"])
    options = ReadOptions.of(load_config())

    spark.conf.set("spark.sql.files.maxPartitionBytes", str(RANGE))
    try:
        n_whole, whole = records(spark, files, options, split_min=1 << 40)
        n_lines, by_lines = records(spark, files, options, split_min=1)
        line_files = [
            f[0]
            for f in ingest.plan_reads(files, with_ingest(options, split_min_bytes=1), 1 << 40)[1]
            if "broken" not in f[0] and "parquet" not in f[0]
        ]
        row_ranges = (
            ingest_rows.read_rows(spark, f"file:{tmp_path}/rows.parquet")
            .select(F.spark_partition_id())
            .distinct()
            .count()
        )  # tasks that read rows
        ranges = {
            r.path.rsplit("/", 1)[-1]: r.n
            for r in ingest_lines.read_lines(spark, line_files)
            .groupBy("path")
            .agg(F.count_distinct("split_start").alias("n"))
            .collect()
        }
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert n_whole == 0 and n_lines == 10  # the hostile jsonl/txt/gz/bz2 files (two replaced above), 4 more
    assert row_ranges > 1
    assert (
        ranges["many.jsonl"] > 3 and ranges["neg.txt"] > 1 and ranges["reviews.jsonl"] >= 2
    )  # the 5 MiB line: one range reads it whole
    assert ranges["most.jsonl.bz2"] > 1 and ranges["more.jsonl.gz"] == 1  # gzip: one streaming task
    assert len(whole) > 20000 and by_lines == whole
    reasons = {r[10] for r in whole}
    assert {
        "malformed_json",
        "record_too_large",
        "corrupt_archive",
        "binary_file",
        "malformed_parquet",
        "rating_out_of_range",
        "missing_text",
    } <= reasons
    parquet = [r for r in whole if r[1].endswith("/rows.parquet")]
    assert len(parquet) == 6000 and {r[2] for r in parquet} == set(range(6000))
    instant = datetime(2026, 3, 1, 8, 31, tzinfo=UTC).astimezone().replace(tzinfo=None)  # as collected
    assert [r[8] for r in parquet if r[2] == 1] == [instant]


def test_a_corrupt_gzip_file_is_found_by_the_scan_before_any_task_reads_it(spark, tmp_path):
    packed = gzip.compress(many_lines(200, 4))
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    (tmp_path / "fine.jsonl.gz").write_bytes(packed)
    scans = {
        u.rsplit("/", 1)[-1]: s
        for u, s in ingest.scan_files(
            spark, ingest.list_files(spark, [f"file:{tmp_path}"]), ReadOptions.of(load_config())
        ).items()
    }
    assert scans["cut.jsonl.gz"].unreadable() == "corrupt_archive"
    assert scans["cut.jsonl.gz"].head == packed[: len(packed) // 2]
    assert scans["fine.jsonl.gz"].unreadable() is None and scans["fine.jsonl.gz"].head.startswith(b'{"')
    assert scans["fine.jsonl.gz"].content_hash == hashlib.sha256(packed).hexdigest()
    assert ingest_lines.scan(spark, f"file:{tmp_path}/gone.jsonl", 10).content_hash is None


def many_csv(n: int, seed: int, sep: str = ",") -> str:
    """CSV rows with no newline inside a field: a header, CRLF and LF endings, blank rows, rows with
    a field too many, a stray quote and a bad rating."""
    rng = random.Random(seed)
    rows = [sep.join(["review_id", "comment", "rating"])]
    for i in range(n):
        roll = rng.random()
        if roll < 0.03:
            rows.append("")
        elif roll < 0.05:
            rows.append(sep.join([f"c{i}", "多了一列", "4", "oops"]))
        elif roll < 0.06:
            rows.append(sep.join([f"c{i}", '"引号"后面', "3"]))
        elif roll < 0.07:
            rows.append(sep.join([f"c{i}", "评分不对", "five"]))
        else:
            rows.append(
                sep.join([f"c{seed}-{i}" if roll < 0.5 else "", f'"第{i}条{sep}好评"', str(rng.randint(1, 5))])
                + ("\r" if roll > 0.9 else "")
            )
    return "\n".join(rows)


def test_csv_files_without_quoted_newlines_read_by_lines_give_the_records_of_a_whole_read(spark, tmp_path):
    (tmp_path / "shop.csv").write_text(many_csv(6000, 1), encoding="utf-8")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + many_csv(2000, 2).encode("utf-8"))
    (tmp_path / "gbk.csv").write_bytes(many_csv(3000, 3).encode("gbk"))
    (tmp_path / "tab.tsv.gz").write_bytes(gzip.compress(many_csv(3000, 4, sep="\t").encode("utf-8")))
    (tmp_path / "plain.csv").write_text("\n".join(f"第{i}条评论，没有表头" for i in range(3000)), encoding="utf-8")
    files = ingest.list_files(spark, [f"file:{tmp_path}"])
    options = with_ingest(ReadOptions.of(load_config()), csv_quoted_newlines=False)

    spark.conf.set("spark.sql.files.maxPartitionBytes", str(RANGE))
    try:
        n_whole, whole = records(spark, files, with_ingest(options, csv_quoted_newlines=True), split_min=1)
        n_lines, by_lines = records(spark, files, options, split_min=1)
        ranges = ingest_lines.read_lines(spark, [f"file:{tmp_path}/shop.csv"]).select("split_start").distinct().count()
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert n_whole == 0 and n_lines == 5 and ranges > 1
    assert len(whole) > 15000 and by_lines == whole
    assert {r[10] for r in whole} >= {None, "malformed_csv", "bad_rating"}
    gbk = [r for r in whole if r[1].endswith("/gbk.csv") and r[10] is None]
    assert gbk and all(r[3].startswith("第") for r in gbk) and any(r[0].startswith("c3-") for r in gbk)
    assert all(r[3].startswith("第") for r in whole if r[1].endswith("/plain.csv"))


def blank_bomb(mib: int) -> bytes:
    """``mib`` MiB of blanks as concatenated gzip members (1 KiB each: ~1000x), built without holding them."""
    return gzip.compress(b" " * (1 << 20), 9) * mib


def test_a_bomb_is_refused_alike_read_whole_and_by_lines_and_the_other_files_read(spark, tmp_path):
    """100 MiB of blanks in 100 KiB of gzip, among honest files: with the default caps it passes
    its 64 MiB grace and 100x its size, so it is one `inflated_too_large` record whether a worker
    inflates it (read whole) or the driver's scan does (read by lines: no task reads it); the
    honest .gz file and the zip's good member are read, the zip's bomb member refused."""
    import zipfile

    bomb = blank_bomb(100)
    (tmp_path / "bomb.jsonl.gz").write_bytes(bomb)
    (tmp_path / "fine.jsonl.gz").write_bytes(gzip.compress(many_lines(3000, 5)))
    (tmp_path / "pos.txt").write_text("很好\n不错\n", encoding="utf-8")
    with zipfile.ZipFile(tmp_path / "bundle.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("neg.txt", "很差\n".encode())
        archive.writestr("blank.txt", b" " * (100 << 20))
    files = ingest.list_files(spark, [f"file:{tmp_path}"])
    options = ReadOptions.of(load_config())
    n_whole, whole = records(spark, files, options, split_min=1 << 40)
    n_lines, by_lines = records(spark, files, options, split_min=1)
    assert (n_whole, n_lines) == (0, 3) and by_lines == whole
    refused = [(r[1].rsplit("/", 1)[-1], r[2], r[11]) for r in whole if r[10] == "inflated_too_large"]
    assert refused == [
        ("bomb.jsonl.gz", 0, bomb[: options.ingest.max_record_bytes]),
        ("bundle.zip", 1 << 40, refused[1][2]),
    ]
    assert refused[1][2].startswith(b"PK")  # the archive's first bytes, as for a corrupt member
    by_file = {}
    for r in whole:
        by_file.setdefault(r[1].rsplit("/", 1)[-1], []).append(r[10])
    assert by_file["fine.jsonl.gz"].count(None) > 2500 and by_file["pos.txt"] == [None, None]
    assert by_file["bundle.zip"] == [None, "inflated_too_large"]
    scans = ingest.scan_files(spark, [f for f in files if f[0].endswith("bomb.jsonl.gz")], options)
    (scan,) = scans.values()
    assert scan.unreadable() == "inflated_too_large" and scan.content_hash == hashlib.sha256(bomb).hexdigest()

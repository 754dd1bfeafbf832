"""Large line files read in byte ranges across tasks give exactly the records of a whole-file read."""
from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import random

from pyspark.sql import functions as F

from reviewlake.core.config import load_config
from reviewlake.jobs.clean_reviews import ingest_options
from reviewlake.lake import ingest, ingest_lines

from tests.integration.test_hostile_input import write_landing

RANGE = 64 * 1024      # spark.sql.files.maxPartitionBytes here: every file below spans several ranges


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


def records(spark, files, options, split_min):
    whole, by_lines, _ = ingest.plan_reads(files, "auto", ingest.read_limit(spark), split_min)
    scans = ingest.scan_line_files(spark, by_lines, options)
    read = ingest.read_records(spark, [f[0] for f in whole + by_lines if f[1] > 0], scans, options)
    return len(by_lines), sorted((tuple(r) for r in read.collect()), key=repr)


def test_files_read_in_byte_ranges_give_the_records_ids_and_quarantine_of_a_whole_read(spark, tmp_path):
    write_landing(tmp_path)                     # every hostile file, a 5 MiB line among them
    (tmp_path / "many.jsonl").write_bytes(many_lines(6000, 1))
    (tmp_path / "more.jsonl.gz").write_bytes(gzip.compress(many_lines(3000, 2)))
    (tmp_path / "most.jsonl.bz2").write_bytes(bz2.compress(many_lines(20000, 3), compresslevel=1))
    (tmp_path / "neg.txt").write_bytes("\n".join(f"第{i}条差评，很不满意" for i in range(8000)).encode("gbk"))
    files = ingest.list_files(spark, [f"file:{tmp_path}"])
    options = ingest_options(load_config())

    spark.conf.set("spark.sql.files.maxPartitionBytes", str(RANGE))
    try:
        n_whole, whole = records(spark, files, options, split_min=1 << 40)
        n_lines, by_lines = records(spark, files, options, split_min=1)
        line_files = [f[0] for f in ingest.plan_reads(files, "auto", 1 << 40, 1)[1] if "broken" not in f[0]]
        ranges = {r.path.rsplit("/", 1)[-1]: r.n for r in ingest_lines.read_lines(spark, line_files)
                  .groupBy("path").agg(F.count_distinct("split_start").alias("n")).collect()}
    finally:
        spark.conf.unset("spark.sql.files.maxPartitionBytes")
    assert n_whole == 0 and n_lines == 8   # the hostile jsonl/txt/gz/bz2 files (two replaced above) and two more
    assert ranges["many.jsonl"] > 3 and ranges["neg.txt"] > 1 and ranges["reviews.jsonl"] >= 2   # the 5 MiB line: one range reads it whole
    assert ranges["most.jsonl.bz2"] > 1 and ranges["more.jsonl.gz"] == 1   # gzip: one streaming task
    assert len(whole) > 20000 and by_lines == whole
    reasons = {r[10] for r in whole}
    assert {"malformed_json", "record_too_large", "corrupt_archive", "binary_file"} <= reasons


def test_a_corrupt_gzip_file_is_found_by_the_scan_before_any_task_reads_it(spark, tmp_path):
    packed = gzip.compress(many_lines(200, 4))
    (tmp_path / "cut.jsonl.gz").write_bytes(packed[: len(packed) // 2])
    (tmp_path / "fine.jsonl.gz").write_bytes(packed)
    scans = {u.rsplit("/", 1)[-1]: s for u, s in
             ingest.scan_line_files(spark, ingest.list_files(spark, [f"file:{tmp_path}"]), {}).items()}
    assert scans["cut.jsonl.gz"].unreadable() == "corrupt_archive"
    assert scans["cut.jsonl.gz"].head == packed[: len(packed) // 2]
    assert scans["fine.jsonl.gz"].unreadable() is None and scans["fine.jsonl.gz"].head.startswith(b'{"')
    assert scans["fine.jsonl.gz"].content_hash == hashlib.sha256(packed).hexdigest()
    assert ingest_lines.scan(spark, f"file:{tmp_path}/gone.jsonl", 10).content_hash is None

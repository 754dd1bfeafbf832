"""A landing folder of hostile inputs: the job succeeds, every record ends in exactly one place,
each bad record is quarantined with the right reason, and no PII pattern reaches silver."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import re
import zipfile

import pytest
from pyspark.sql import functions as F

from reviewlake.core import delta_io, listing, tables
from reviewlake.core.config import load_config
from reviewlake.jobs import clean_reviews

GOOD = "这本书的内容非常精彩，推荐大家购买"


def write_landing(folder):
    rows = [
        {"id": "j1", "content": GOOD, "star": 5},
        {"id": "j2", "content": "质量太差了，客服电话13912345678也打不通，邮箱 kefu@shop.cn 没人回", "star": 1},
        {"id": "j3", "content": "身份证 110105194912310021 被要求登记，很不舒服", "star": 2},
    ]
    lines = [json.dumps(r, ensure_ascii=False) for r in rows] + [
        '{"id": "bad1", "content": "缺一个括号"',  # malformed_json
        '{"id": "bad2", "star": 4}',  # missing_text
        '{"id": "bad3", "content": "评分不是数字", "star": "five"}',  # bad_rating
        '{"id": "bad4", "content": "评分超出范围", "star": 11}',  # rating_out_of_range
        '{"id": "bad5", "content": 12345}',  # bad_text_type
        json.dumps({"id": "bad6", "content": "长" * (5 * 1024 * 1024 // 3)}, ensure_ascii=False),  # 5 MB
        '{"id": "j1", "content": "重复的编号"}',  # duplicate_review_id
    ]
    (folder / "reviews.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "shop.csv").write_text(
        "review_id,comment,rating,created_at\n"
        'c1,"物流很快,包装完好,五星好评",5,2024-01-02 10:00:00\n'
        'c2,"第一行\n第二行：手机 +86 138-1234-5678",3,2024-01-03\n'
        'c3,"多了一列",4,2024-01-04,oops\n'  # malformed_csv
        'c4,"时间不对",4,yesterday\n',  # bad_created_at
        encoding="utf-8",
    )
    (folder / "neg.txt").write_bytes("房间很脏，服务态度恶劣\n空调坏了没人修\n".encode("gbk"))
    (folder / "pos.txt").write_bytes("\ufeff早餐丰富，位置方便\n".encode("utf-8"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blob.txt").write_bytes(bytes(range(256)) * 4)  # binary_file
    (folder / "notes.xyz").write_bytes(b"what is this")  # unknown_format
    packed = '{"id": "g1", "content": "压缩包里的好评"}\n{"id": "g2", "content": "坏的\n'.encode()
    (folder / "more.jsonl.gz").write_bytes(gzip.compress(packed))  # 1 good, 1 malformed_json
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("inside/pos.txt", "压缩包里的第二条\n".encode("gbk"))
    (folder / "bundle.zip").write_bytes(buf.getvalue())  # 1 good (GBK, in a zip)
    (folder / "broken.jsonl.bz2").write_bytes(bz2.compress(packed)[:30])  # corrupt_archive
    return {
        "malformed_json": 2,
        "missing_text": 1,
        "bad_rating": 1,
        "rating_out_of_range": 1,
        "bad_text_type": 1,
        "record_too_large": 1,
        "duplicate_review_id": 1,
        "malformed_csv": 1,
        "bad_created_at": 1,
        "binary_file": 1,
        "unknown_format": 1,
        "corrupt_archive": 1,
    }, 3 + 2 + 2 + 1 + 2  # good records: jsonl 3, csv 2, gbk 2, bom 1, compressed 2


@pytest.fixture(scope="module")
def hostile(spark, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    landing = root / "landing"
    landing.mkdir()
    expected, n_good = write_landing(landing)
    args = ["--input", str(landing), "--lakehouse", str(root / "lake"), "--conf", f"reports_dir={root / 'reports'}"]
    code = clean_reviews.main(args)
    cfg = load_config(overrides=[f"lakehouse={root / 'lake'}"])
    return code, cfg, root, expected, n_good


def test_job_succeeds_despite_bad_records(hostile):
    assert hostile[0] == 0


def test_each_bad_record_is_quarantined_with_its_reason(spark, hostile):
    _, cfg, _, expected, _ = hostile
    quarantine = delta_io.read(spark, tables.uri(cfg, "bronze", "quarantine"))
    got = {r.reason: r.n for r in quarantine.groupBy("reason").agg(F.count("*").alias("n")).collect()}
    assert got == expected
    big = quarantine.where("reason = 'record_too_large'").first()
    assert big.raw_record[:8] == b'{"id": "' and big.source_file.endswith("reviews.jsonl")
    assert quarantine.where(F.col("raw_record").isNull()).count() == 0


def test_every_record_is_accounted_for_once(spark, hostile):
    _, cfg, root, expected, n_good = hostile
    bronze = delta_io.read(spark, tables.uri(cfg, "bronze", "reviews_raw"))
    disposition = delta_io.read(spark, tables.uri(cfg, "silver", "disposition"))
    assert bronze.count() == n_good
    assert disposition.count() == n_good == disposition.select("review_id").distinct().count()
    report = json.loads((root / "reports" / "runs" / "clean_reviews" / "latest.json").read_text(encoding="utf-8"))
    ingest = report["summary"]["ingest"]
    assert ingest["records"] == n_good + sum(expected.values())
    assert ingest["quarantined_per_reason"] == expected
    assert any(f.endswith("empty.txt") and n == 0 for f, n in ingest["records_per_file"].items())


def test_encodings_are_decoded(spark, hostile):
    _, cfg, _, _, _ = hostile
    texts = {r.raw_text for r in delta_io.read(spark, tables.uri(cfg, "bronze", "reviews_raw")).collect()}
    assert {"房间很脏，服务态度恶劣", "空调坏了没人修", "早餐丰富，位置方便"} <= texts


def test_compressed_files_land_and_the_file_log_hashes_their_compressed_bytes(spark, hostile):
    _, cfg, root, _, _ = hostile
    bronze = delta_io.read(spark, tables.uri(cfg, "bronze", "reviews_raw"))
    by_file = {r.raw_text: r.source_file for r in bronze.collect()}
    assert by_file["压缩包里的好评"].endswith("/more.jsonl.gz")
    assert by_file["压缩包里的第二条"].endswith("/bundle.zip")
    quarantine = delta_io.read(spark, tables.uri(cfg, "bronze", "quarantine"))
    (broken,) = quarantine.where("reason = 'corrupt_archive'").collect()
    assert broken.source_file.endswith("/broken.jsonl.bz2") and broken.raw_record[:3] == b"BZh"
    files = {
        r.source_file.rsplit("/", 1)[-1]: r.content_hash
        for r in delta_io.read(spark, tables.uri(cfg, "bronze", "files")).collect()
    }
    landing = root / "landing"
    for name in ("more.jsonl.gz", "bundle.zip", "broken.jsonl.bz2"):
        assert files[name] == hashlib.sha256((landing / name).read_bytes()).hexdigest(), name


def test_no_pii_reaches_silver(spark, hostile):
    _, cfg, _, _, _ = hostile
    silver = delta_io.read(spark, tables.uri(cfg, "silver", "reviews"))
    texts = [r.text for r in silver.select("text").collect()] + [
        " ".join(r.tokens) for r in silver.select("tokens").collect()
    ]
    pii = re.compile(r"1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|[\w.]+@[\w.]+|\d{17}[\dX]")
    assert not [t for t in texts if pii.search(t)]
    assert any("[PHONE]" in t for t in texts) and any("[EMAIL]" in t for t in texts) and any("[ID]" in t for t in texts)


def test_inputs_may_be_files_folders_and_globs(spark, tmp_path):
    from reviewlake.core.uris import to_uri
    from reviewlake.lake.ingest import list_files

    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("好")
    (tmp_path / "a" / "y.csv").write_text("text\n好")
    (tmp_path / "a" / ".hidden.txt").write_text("no")
    (tmp_path / "z.jsonl").write_text("{}")

    def names(inputs):
        return sorted(p.rsplit("/", 1)[-1] for p, _, _ in list_files(spark, [to_uri(i) for i in inputs]))

    assert names([str(tmp_path / "a")]) == ["x.txt", "y.csv"]
    assert names([str(tmp_path / "a" / "*.txt"), str(tmp_path / "z.jsonl")]) == ["x.txt", "z.jsonl"]
    with pytest.raises(FileNotFoundError, match="nope"):
        list_files(spark, [to_uri(str(tmp_path / "nope"))])


def test_local_listing_equals_hadoops(spark, tmp_path):
    """The os.walk fast path for plain local folders lists what Hadoop FileSystem lists."""
    from reviewlake.core.uris import to_uri
    from reviewlake.lake import ingest

    (tmp_path / "d e" / "子目录").mkdir(parents=True)
    (tmp_path / "d e" / "评论 1.txt").write_text("好")
    (tmp_path / "d e" / "子目录" / "b.jsonl").write_text("{}\n")
    (tmp_path / "d e" / "子目录" / "empty.csv").write_bytes(b"")
    (tmp_path / "d e" / "_skip.txt").write_text("x")
    root = to_uri(str(tmp_path / "d e"))
    fast = ingest.list_files(spark, [root, to_uri(str(tmp_path / "d e" / "评论 1.txt"))])
    # a trailing glob character sends the same folder through Hadoop
    slow = ingest.list_files(spark, [root + "/*", root + "/子目录/*"])
    assert listing.is_plain_local(root) and not listing.is_plain_local(root + "/*")
    assert fast == slow and len(fast) == 3
    # the Spark-free listing of the no-op check (reviewlake/core/run_state.py) is the same
    assert listing.list_plain_local([root, to_uri(str(tmp_path / "d e" / "评论 1.txt"))]) == fast
    assert listing.list_plain_local([root + "/*"]) is None


def test_decompression_bombs_are_quarantined_and_the_honest_files_land(spark, tmp_path):
    """Two bombs of blanks among honest files, through the job with the default caps: one small
    enough to be read whole (a worker refuses it), one over ingest.split_min_bytes (lowered here;
    the driver's scan refuses it before any task reads it). Each is one `inflated_too_large`
    record with its first stored bytes and is logged with its hash; the honest files land, and
    the job succeeds."""
    landing = tmp_path / "landing"
    landing.mkdir()
    member = gzip.compress(b" " * (1 << 20), 9)  # 1 MiB of blanks in ~1 KiB; concatenated members
    (landing / "small.jsonl.gz").write_bytes(member * 100)  # 100 MiB in ~100 KiB
    (landing / "large.txt.gz").write_bytes(member * 200)  # 200 MiB in ~200 KiB
    rows = [{"id": f"h{i}", "content": f"{GOOD}，第{i}次购买"} for i in range(3)]
    (landing / "reviews.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    (landing / "more.jsonl.gz").write_bytes(
        gzip.compress(json.dumps({"id": "g1", "content": "压缩包里的好评，值得购买"}, ensure_ascii=False).encode())
    )
    split_min = len(member) * 150  # the small bomb is read whole, the large one by lines
    args = ["--input", str(landing), "--lakehouse", str(tmp_path / "lake"), "--conf", f"reports_dir={tmp_path / 'r'}"]
    assert clean_reviews.main([*args, "--conf", f"ingest.split_min_bytes={split_min}"]) == 0
    cfg = load_config(overrides=[f"lakehouse={tmp_path / 'lake'}"])
    bronze = delta_io.read(spark, tables.uri(cfg, "bronze", "reviews_raw"))
    assert sorted(r.review_id for r in bronze.collect()) == ["g1", "h0", "h1", "h2"]
    quarantine = delta_io.read(spark, tables.uri(cfg, "bronze", "quarantine")).collect()
    assert sorted((r.source_file.rsplit("/", 1)[-1], r.record_offset, r.reason) for r in quarantine) == [
        ("large.txt.gz", 0, "inflated_too_large"),
        ("small.jsonl.gz", 0, "inflated_too_large"),
    ]
    for r in quarantine:  # each under ingest.max_record_bytes: all its stored bytes
        assert r.raw_record == (landing / r.source_file.rsplit("/", 1)[-1]).read_bytes()
    files = {
        r.source_file.rsplit("/", 1)[-1]: r.content_hash
        for r in delta_io.read(spark, tables.uri(cfg, "bronze", "files")).collect()
    }
    for name in ("small.jsonl.gz", "large.txt.gz"):
        assert files[name] == hashlib.sha256((landing / name).read_bytes()).hexdigest(), name


@pytest.mark.system  # two job runs (~50 s): in the system tier, to keep `make test` within its 10 minutes
def test_a_file_over_the_read_limit_is_quarantined_and_the_others_land(spark, tmp_path, capsys):
    """binaryFile refuses a file over spark.sql.sources.binaryFile.maxLength (at most 2 GiB; lowered
    here): a CSV file over it is logged without a hash and quarantined, a JSON Lines file over it
    is read by lines instead, the small one whole; the job exits 6 naming the CSV file; the next
    run, the limit back, ingests it and drops its quarantine entry."""
    from reviewlake.lake import ingest

    landing = tmp_path / "landing"
    landing.mkdir()
    big = "".join(
        json.dumps({"id": f"b{i}", "content": f"第{i}条评论，内容还不错"}, ensure_ascii=False) + "\n" for i in range(60)
    ).encode("utf-8")
    (landing / "big.jsonl").write_bytes(big)
    table = ("review_id,comment\n" + "".join(f"c{i},第{i}条评论，物流很快包装完好\n" for i in range(60))).encode(
        "utf-8"
    )
    (landing / "big.csv").write_bytes(table)
    (landing / "small.jsonl").write_text(
        json.dumps({"id": "s1", "content": GOOD}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    args = ["--input", str(landing), "--lakehouse", str(tmp_path / "lake"), "--conf", f"reports_dir={tmp_path / 'r'}"]
    cfg = load_config(overrides=[f"lakehouse={tmp_path / 'lake'}"])
    spark.conf.set(ingest.BINARY_MAX_LENGTH, str(min(len(big), len(table)) - 1))
    try:
        assert clean_reviews.main(args) == 6
    finally:
        spark.conf.unset(ingest.BINARY_MAX_LENGTH)
    err = capsys.readouterr().err
    assert "1 of 3 new files could not be read (file_too_large 1" in err and "big.csv" in err
    bronze = delta_io.read(spark, tables.uri(cfg, "bronze", "reviews_raw"))
    assert sorted(r.review_id for r in bronze.collect()) == sorted([f"b{i}" for i in range(60)] + ["s1"])
    quarantine = delta_io.read(spark, tables.uri(cfg, "bronze", "quarantine")).collect()
    assert [(r.source_file.rsplit("/", 1)[-1], r.record_offset, r.reason, r.raw_record) for r in quarantine] == [
        ("big.csv", 0, "file_too_large", b"")
    ]
    files = {
        r.source_file.rsplit("/", 1)[-1]: r.content_hash
        for r in delta_io.read(spark, tables.uri(cfg, "bronze", "files")).collect()
    }
    assert files["big.csv"] is None
    assert files["big.jsonl"] == hashlib.sha256(big).hexdigest()
    assert files["small.jsonl"] == hashlib.sha256((landing / "small.jsonl").read_bytes()).hexdigest()

    assert clean_reviews.main(args) == 0  # the limit back: the file is tried again and lands
    assert delta_io.read(spark, tables.uri(cfg, "bronze", "reviews_raw")).count() == 121
    assert delta_io.read(spark, tables.uri(cfg, "bronze", "quarantine")).where("reason = 'file_too_large'").count() == 0


def test_a_file_gone_since_listing_has_no_hash(spark, tmp_path):
    from reviewlake.lake import ingest

    (tmp_path / "here.jsonl").write_text('{"text": "好"}\n', encoding="utf-8")
    listed = [(f"file:{tmp_path}/here.jsonl", 15, 0), (f"file:{tmp_path}/gone.jsonl", 15, 0)]
    hashes = {r.source_file.rsplit("/", 1)[-1]: r.content_hash for r in ingest.file_inventory(spark, listed).collect()}
    assert hashes["here.jsonl"] is not None and hashes["gone.jsonl"] is None

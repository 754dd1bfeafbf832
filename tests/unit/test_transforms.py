"""Unit tests of the DataFrame -> DataFrame transforms (real Spark, tiny frames)."""

from __future__ import annotations

from chispa import assert_df_equality
from pyspark.sql import functions as F

from reviewlake.core.settings import Split
from reviewlake.features.split import assign_split
from reviewlake.features.vocab import fit_vocab, vocab_version
from reviewlake.lake import clean
from reviewlake.lake.labels import label_column
from reviewlake.text.ids import tokens_to_ids
from reviewlake.text.segment import SegmenterSpec, segment_text


def test_clean_rules_record_changes_and_first_failing_filter(spark, make_cfg):
    cfg = make_cfg("clean.min_chars=3")
    rules = clean.build_rules(cfg.clean)
    df = spark.createDataFrame(
        [("a", "ＡＢＣ　好评！"), ("b", "   "), ("c", "好"), ("d", None), ("e", "正常的评论")],
        "review_id string, raw_text string",
    )
    out = clean.apply_rules(df, rules).select("review_id", "text", "filtered_by").orderBy("review_id")
    expected = spark.createDataFrame(
        [
            ("a", "ABC 好评!", None),
            ("b", "", "empty"),
            ("c", "好", "too_short"),
            ("d", "", "empty"),
            ("e", "正常的评论", None),
        ],
        "review_id string, text string, filtered_by string",
    )
    assert_df_equality(out, expected, ignore_nullable=True)
    total, counts = clean.rule_counts(clean.apply_rules(df, rules), rules)
    assert total == 5
    assert counts["nfkc"] == {"changed": 1}
    assert counts["whitespace"] == {"changed": 1}  # b only: NFKC already turned a's U+3000 into a space
    assert counts["empty"] == {"removed": 2} and counts["too_short"] == {"removed": 1}


def test_unknown_rule_is_rejected(make_cfg):
    import pytest

    with pytest.raises(ValueError, match="unknown clean rules"):
        clean.build_rules(make_cfg("clean.rules=[nfkc, nonsense]").clean)


def test_labels_from_label_column_then_rating(spark):
    df = spark.createDataFrame(
        [("pos", None), (" 差评 ", 5), (None, 2), (None, 3), ("???", None)], "label_raw string, rating int"
    )
    got = [
        r.label
        for r in df.select(
            label_column(
                F.col("label_raw"), F.col("rating"), {1: "negative", 2: "negative", 3: "neutral", 5: "positive"}
            ).alias("label")
        ).collect()
    ]
    assert got == ["positive", "negative", "negative", "neutral", None]


def test_split_is_deterministic_stratified_and_by_cluster(spark):
    rows = [(f"c{i}", "positive" if i % 3 else "negative") for i in range(300)]
    df = spark.createDataFrame(rows, "dup_cluster_id string, label string")
    ratios = Split(train=0.8, validation=0.1, test=0.1)
    a = {r.dup_cluster_id: r.split for r in assign_split(df.repartition(1), ratios, 7).collect()}
    b = {r.dup_cluster_id: r.split for r in assign_split(df.repartition(5), ratios, 7).collect()}
    assert a == b
    for label, n in (("negative", 100), ("positive", 200)):
        members = [c for c, lab in rows if lab == label]
        train = sum(a[c] == "train" for c in members)
        assert train == int(0.8 * n)
    assert a != {r.dup_cluster_id: r.split for r in assign_split(df, ratios, 8).collect()}


def test_vocab_by_doc_freq_with_reserved_ids(spark):
    df = spark.createDataFrame([(["好", "好", "书"],), (["好", "差"],), (["书", "好"],)], "tokens array<string>")
    vocab = fit_vocab(df, vocab_size=10, min_df=2)
    expected = spark.createDataFrame([("好", 2, 3), ("书", 3, 2)], "token string, token_id int, doc_freq long")
    assert_df_equality(vocab.orderBy("token_id"), expected, ignore_nullable=True)
    assert fit_vocab(df, vocab_size=1, min_df=1).count() == 1
    assert vocab_version([("好", 2)]) == vocab_version([("好", 2)]) != vocab_version([("书", 2)])


def test_tokens_to_ids_pads_truncates_and_maps_oov():
    vocab = {"好": 2, "书": 3}
    assert tokens_to_ids(["好", "怪", "书"], vocab, 5) == [2, 1, 3, 0, 0]
    assert tokens_to_ids(["好"] * 7, vocab, 3) == [2, 2, 2]
    assert tokens_to_ids(None, vocab, 2) == [0, 0]


def test_segmentation_drops_stopwords_and_whitespace_and_uses_user_dict():
    spec = SegmenterSpec(user_dict="性价比超高 10 n\n", stopwords=frozenset({"的", "，"}), hmm=True)
    tokens = segment_text("这个的性价比超高 ，不错", spec)
    assert "性价比超高" in tokens
    assert "的" not in tokens and "，" not in tokens and " " not in tokens
    assert segment_text("", spec) == []


def test_tally_counts_every_frame_per_key_in_one_action(spark):
    from reviewlake.core.spark_work import SparkWork
    from reviewlake.core.tally import tally

    a = spark.createDataFrame([("x",), ("x",), ("y",), (None,)], "key string")
    b = spark.createDataFrame([(1,), (2,)], "v int")  # no key column: counted whole
    empty = spark.createDataFrame([], "key string")
    work = SparkWork(spark, "tally-test", {}).start()
    out = tally(a=a, b=b, none=empty)
    jobs = work.finish()["jobs"]
    assert out == {"a": {"x": 2, "y": 1, None: 1}, "b": {None: 2}, "none": {}}
    assert jobs <= 2  # one collect (AQE may add a job for its shuffle), not one per frame

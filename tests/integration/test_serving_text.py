"""The serving helper turns raw text into the same tokens and ids as the pipeline (Spark clean
rules, then the jieba pandas UDF, then the vocabulary), on the bundled corpus sample."""

from __future__ import annotations

from pyspark.sql import functions as F

from reviewlake.lake import clean
from reviewlake.lake.segment import tokens_column
from reviewlake.text.segment import SegmenterSpec
from reviewlake.text.serving import TextToIds, preprocessing, tokens_to_ids


def test_helper_tokenises_and_maps_like_the_pipeline(spark, make_cfg, corpus_sample):
    cfg = make_cfg()
    texts = []
    for name in ("pos.txt", "neg.txt"):
        texts += (corpus_sample / name).read_text(encoding="utf-8").splitlines()
    texts += ["這個產品<b>很好</b>！！！看 www.x.com 😀😀", "ＡＢＣ电话13812345678，好好好好好"]
    df = spark.createDataFrame([(t,) for t in texts], "raw_text string")
    spec = SegmenterSpec.from_config(cfg.segment)
    rows = (
        clean.apply_rules(df, clean.build_rules(cfg.clean))
        .where(F.col("filtered_by").isNull())
        .withColumn("tokens", tokens_column(F.col("text"), spec))
        .select("raw_text", "tokens")
        .collect()
    )
    assert len(rows) > 100

    vocab = {}
    for r in rows:
        for t in r.tokens:
            vocab.setdefault(t, len(vocab) + 2)
    vocab = dict(list(vocab.items())[::2])  # half the words out of vocabulary
    helper = TextToIds.from_preprocessing(preprocessing(cfg), vocab, max_len=40)
    mismatches = [
        (r.raw_text, list(r.tokens), helper.tokens(r.raw_text))
        for r in rows
        if helper.tokens(r.raw_text) != list(r.tokens)
    ]
    assert mismatches == []
    assert all(helper(r.raw_text) == tokens_to_ids(list(r.tokens), vocab, 40) for r in rows)

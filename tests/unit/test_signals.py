"""Soft signals (reviewlake/text/signals.py): the ratio scores by hand and by property on their
Python forms, their Spark forms held equal to them (on the text the clean rules leave before the
collapse rules, and on arbitrary strings), the flags' two forms, and the template flag with its
cluster counts on a constructed population, clustered on the driver and in Spark; silver's rows
dealt into partitions of equal rows."""

from __future__ import annotations

import dataclasses
import math
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F

from reviewlake.core.spark import session_conf
from reviewlake.lake import clean, incremental, silver
from reviewlake.text import signals
from reviewlake.text.clean_rules import cjk_ratio_py, python_cleaner
from reviewlake.text.signals import char_rep_ratio_py, flags_py, scores_py, special_char_share_py
from tests.unit.test_clean_rules import ADVERSARIAL, MAP_CASES, generated_texts, unicode_text
from tests.unit.test_dedupe import BASE, NEAR, OTHER, cleaned_frame


# ------------------------------------------------------------------ the Python forms
@pytest.mark.parametrize(
    "text, n, ratio",
    [
        ("好好好好好好", 3, 1.0),  # one trigram, four times
        ("很好很好很好很好很好", 3, 0.5),  # 很好很 x4, 好很好 x4: the top sqrt(2) = 1 of them
        ("很 好 很 好\u3000很好", 2, 0.5),  # ASCII spaces left out, U+3000 kept: 很好 x3 of 6 bigrams
        ("这本书很好看", 3, 0.0),  # no trigram repeats
        ("好评", 3, 0.0),  # shorter than n
        ("", 3, 0.0),
        # 10 distinct trigrams of 23, five repeated: the top isqrt(10) = 3 (4 times each)
        ("还成,不错还成,不错还成,不错还成,不错,物有所值", 3, 12 / 23),
    ],
)
def test_char_rep_ratio_by_hand(text, n, ratio):
    assert char_rep_ratio_py(text, n) == pytest.approx(ratio)


def test_shares_by_hand():
    assert special_char_share_py("推荐!!!") == 3 / 5
    assert special_char_share_py("好评 👍") == 1 / 3  # emoji are symbols; spaces do not count
    assert special_char_share_py("价格100元") == 0.0  # digits are content
    assert special_char_share_py("") == cjk_ratio_py("") == 0.0
    assert cjk_ratio_py("Good 好") == 1 / 5


def test_the_measured_text_is_the_rules_before_the_first_collapse():
    rules = ["hz_decode", "nfkc", "emoji", "punct_runs", "repeat_char", "whitespace", "too_short"]
    assert signals.measured_rules(rules) == ["hz_decode", "nfkc", "emoji"]
    assert signals.measured_rules(["nfkc", "too_short"]) == ["nfkc", "too_short"]  # none configured: all


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.one_of(unicode_text, st.text(alphabet="好评很不错!。 ", max_size=40)), st.integers(1, 6))
def test_scores_are_shares_and_repetition_is_zero_exactly_without_a_repeated_ngram(text, n):
    cfg = dataclasses.replace(_defaults().signals, rep_ngram=n)
    scores = scores_py(text, cfg)
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    visible = re.sub(r"[ \t\n\r\f\v]", "", text)
    grams = [visible[i : i + n] for i in range(len(visible) - n + 1)]
    assert (scores["char_rep_ratio"] > 0) == (len(set(grams)) < len(grams))
    assert scores_py(" ".join(text), cfg) == scores  # ASCII spaces do not count


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.one_of(unicode_text, st.text(alphabet="好评很不错!。 a1👍", max_size=60)), st.integers(1, 6))
def test_scores_in_one_pass_equal_each_score_by_its_definition(text, n):
    cfg = dataclasses.replace(_defaults().signals, rep_ngram=n)
    assert scores_py(text, cfg) == {
        "cjk_share": cjk_ratio_py(text),
        "special_char_share": special_char_share_py(text),
        "char_rep_ratio": char_rep_ratio_py(text, n),
    }


def _defaults():
    from reviewlake.core.config import load_config

    return load_config(site=False)


def test_flags_by_hand():
    cfg = dataclasses.replace(
        _defaults().signals, min_cjk_share=0.5, max_special_char_share=0.4, max_char_rep_ratio=0.3, template_min=3
    )
    calm = {"cjk_share": 0.5, "special_char_share": 0.4, "char_rep_ratio": 0.3, "cluster_products": 3}
    assert flags_py({**calm, "cluster_users": 2}, cfg) == []  # at a threshold is not over it; 2 users < 3
    assert flags_py({**calm, "cluster_users": 3}, cfg) == ["template"]
    loud = {"cjk_share": 0.49, "special_char_share": 0.41, "char_rep_ratio": 0.31, "cluster_products": 9}
    assert flags_py({**loud, "cluster_users": 0}, cfg) == ["high_special_chars", "low_cjk_share", "repetitive"]


# ------------------------------------------------------------------ Spark form = Python form
def test_spark_scores_equal_python_scores_on_the_measured_text(spark, make_cfg, corpus_sample):
    """The job's way (apply_rules keeps the text before the collapse rules, with_scores measures it)
    against the Python twin (python_cleaner of the rules before the collapse rules, scores_py), on
    the cases, adversarial strings and the corpus sample; and with_scores alone, under two n-gram
    lengths, on arbitrary generated strings (every plane, line terminators, lone runs)."""
    cfg = make_cfg()
    texts = [i for _, i, _ in MAP_CASES] + ADVERSARIAL
    for name in ("pos.txt", "neg.txt"):
        texts += (corpus_sample / name).read_text(encoding="utf-8").splitlines()
    df = spark.createDataFrame([(t,) for t in texts], "raw_text string")
    measured = clean.apply_rules(df, clean.build_rules(cfg.clean), measured="m")
    got = signals.with_scores(measured, "m", cfg.signals).select("m", *signals.SCORES).collect()
    twin = python_cleaner(cfg.clean, signals.measured_rules(cfg.clean.rules))
    differ = [(t, r) for t, r in zip(texts, got, strict=True) if (r.m, r.asDict()) != _twin(twin(t), cfg.signals)]
    assert differ == []

    generated = generated_texts(300, seed=20261204) + ["好\U00020000" * 7, "\U0001f600\U0001f600\U0001f600x"]
    raw = spark.createDataFrame([(t,) for t in generated], "m string")
    for n in (1, 3):
        options = dataclasses.replace(cfg.signals, rep_ngram=n)
        rows = signals.with_scores(raw, "m", options).select(*signals.SCORES).collect()
        differ = [(t, r) for t, r in zip(generated, rows, strict=True) if r.asDict() != scores_py(t, options)]
        assert differ == [], n


def _twin(text: str, cfg) -> tuple:
    return text, {"m": text, **scores_py(text, cfg)}


def test_spark_flags_equal_python_flags(spark, make_cfg):
    cfg = make_cfg("signals.template_min=2").signals
    rng = random.Random(7)
    edges = [cfg.min_cjk_share, cfg.max_special_char_share, cfg.max_char_rep_ratio, 0.0, 1.0]
    rows = [
        (rng.choice(edges + [rng.random()]), rng.choice(edges + [rng.random()]), rng.choice(edges + [rng.random()]))
        + (rng.randrange(4), rng.randrange(4))
        for _ in range(400)
    ]
    columns = [*signals.SCORES, *signals.COUNTS]
    df = spark.createDataFrame(
        rows,
        "cjk_share double, special_char_share double, char_rep_ratio double, cluster_products int, cluster_users int",
    )
    got = [r.quality_flags for r in df.select(signals.flags_column(cfg).alias("quality_flags")).collect()]
    assert got == [flags_py(dict(zip(columns, row, strict=True)), cfg) for row in rows]
    assert [] in got and ["high_special_chars", "low_cjk_share", "repetitive", "template"] in got


# ------------------------------------------------------------------ the template flag
# (review_id, text, product_id, user_id): t* one cluster (exact and near copies) posted under 3
# products by 3 users (a repeat and a copy without ids do not count); s* under 3 products by 2 users
ROWS = [
    ("t1", BASE, "p1", "u1"),
    ("t2", BASE, "p2", "u2"),
    ("t3", NEAR["changed_word"][0], "p3", "u3"),
    ("t4", NEAR["added_sentence"][0], "p3", "u3"),
    ("t5", BASE, None, None),
    ("s1", OTHER, "p1", "u1"),
    ("s2", OTHER, "p2", "u1"),
    ("s3", OTHER, "p3", "u2"),
    ("solo", "这本书很好看，孩子很喜欢，每天晚上都要读一遍", "p9", None),
]


def template_population(spark, make_cfg):
    ids = spark.createDataFrame(
        [(r, p, u) for r, _, p, u in ROWS], "review_id string, product_id string, user_id string"
    )
    df = cleaned_frame(spark, make_cfg, [(r, t, None, "positive") for r, t, _, _ in ROWS]).join(ids, "review_id")
    neutral = {"cjk_share": 1.0, "special_char_share": 0.0, "char_rep_ratio": 0.0}  # no score flag
    return (
        df.withColumn("batch_id", F.lit("b1"))
        .withColumn("rating", F.lit(5))
        .withColumns({k: F.lit(v) for k, v in neutral.items()})
        .select(*incremental.POPULATION_COLUMNS)
    )


@pytest.mark.parametrize("where", ["driver", pytest.param("spark", marks=pytest.mark.system)])  # system: ~50 jobs
def test_template_flag_and_cluster_counts(spark, make_cfg, where):
    cfg = make_cfg("signals.template_min=3")
    pop = template_population(spark, make_cfg)
    clustered = silver.cluster_on_driver(pop, cfg.dedupe) if where == "driver" else silver.cluster(pop, cfg.dedupe)
    columns = ["review_id", *signals.COUNTS, "quality_flags"]
    rows = silver.silver_rows(clustered, cfg, len(ROWS)).select(*columns).collect()
    got = {r.review_id: (r.cluster_products, r.cluster_users, r.quality_flags) for r in rows}
    assert got == {"t1": (3, 3, ["template"]), "s1": (3, 2, []), "solo": (1, 0, [])}


def test_silver_rows_are_dealt_into_partitions_of_rows_per_partition(spark, make_cfg):
    """Segmentation's cost goes by rows: its input is dealt into partitions of about
    ``spark.rows_per_partition`` rows of the population, a multiple of the cores, where adaptive
    execution would have merged the join's few rows into one partition."""
    cfg = make_cfg("spark.rows_per_partition=1")
    clustered = silver.cluster_on_driver(template_population(spark, make_cfg), cfg.dedupe)
    cores = spark.sparkContext.defaultParallelism
    with session_conf(spark, {"spark.sql.adaptive.enabled": "true"}):
        rows = silver.silver_rows(clustered, cfg, len(ROWS))
        assert rows.rdd.getNumPartitions() == cores * math.ceil(len(ROWS) / cores)
        assert rows.count() == 3
    nothing = silver.silver_rows(clustered.limit(0), cfg, 0)  # every new row filtered: one per core
    assert nothing.rdd.getNumPartitions() == cores and nothing.count() == 0

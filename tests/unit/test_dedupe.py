"""Exact and near-duplicate clustering: planted near-copies of each kind, survivor rule,
determinism under repartitioning, connected components, label-conflict policies."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyspark.sql import functions as F

from reviewlake.lake import clean, dedupe
from reviewlake.lake.minhash import choose_bands, default_params, jaccard, shingle_codes

PARAMS = default_params(0.8, 3, 128, 7, 0.985)
BASE = "这家酒店的位置很好，离火车站很近，房间干净整洁，早餐品种丰富，服务员态度热情，下次出差还会再来住"
NEAR = {  # kind -> (a copy of BASE, outcome: the dedupe key makes some of them exact)
    "punctuation": (BASE.replace("，", "。") + "！！！", "exact_duplicate"),
    "emoji": (BASE + "👍👍", "exact_duplicate"),
    "traditional": (
        "這家酒店的位置很好，離火車站很近，房間乾淨整潔，早餐品種豐富，服務員態度熱情，下次出差還會再來住",
        "exact_duplicate",
    ),
    "changed_word": (BASE.replace("丰富", "很多"), "near_duplicate"),
    "traditional_changed_word": (
        "這家酒店的位置很好，離火車站很近，房間乾淨整潔，早餐品種很多，服務員態度熱情，下次出差還會再來住",
        "near_duplicate",
    ),
    "repeated_phrase": (BASE + "下次出差还会再来住下次出差还会再来住下次出差还会再来住", "near_duplicate"),
    "added_sentence": (BASE + "，总体满意", "near_duplicate"),
}
OTHER = "这本书的印刷质量很差，纸张发黄，错别字很多，内容也和介绍不符，非常失望，不推荐购买"


def cleaned_frame(spark, make_cfg, rows):
    """rows: (review_id, raw_text, created_at, label) -> cleaned candidates with text_key/hash."""
    df = spark.createDataFrame(rows, "review_id string, raw_text string, created_at string, label string").withColumn(
        "created_at", F.to_timestamp("created_at")
    )
    return dedupe.with_text_hash(clean.apply_rules(df, clean.build_rules(make_cfg().clean)))


def test_banding_meets_the_recall_target_at_the_threshold():
    bands, rows = choose_bands(0.8, 128, 0.98)
    assert bands * rows <= 128
    assert 1 - (1 - 0.8**rows) ** bands > 0.98
    assert PARAMS.p_candidate(0.5) < 0.2  # few false candidates far below the threshold


def test_shingles_are_character_ngrams_not_words():
    assert len(shingle_codes("好评如潮", 3)) == 2
    assert jaccard(shingle_codes("abcdef", 3), shingle_codes("abcdef", 3)) == 1.0
    assert jaccard(shingle_codes("abcdef", 3), shingle_codes("uvwxyz", 3)) == 0.0


def test_planted_near_duplicates_of_each_kind_are_found(spark, make_cfg):
    rows = [
        ("base", BASE, "2024-01-01 00:00:00", "positive"),
        ("other", OTHER, None, "negative"),
        ("exact", BASE, "2024-03-01 00:00:00", "positive"),
    ]
    rows += [(kind, text, None, "positive") for kind, (text, _) in NEAR.items()]
    out = {
        r.review_id: r for r in dedupe.assign_clusters(cleaned_frame(spark, make_cfg, rows), PARAMS, 0.8, 10).collect()
    }
    assert out["base"].outcome == "kept" and out["other"].outcome == "kept"
    assert out["exact"].outcome == "exact_duplicate" and out["exact"].survivor_id == "base"
    for kind, (_, outcome) in NEAR.items():
        assert (out[kind].outcome, out[kind].survivor_id) == (outcome, "base"), kind
    assert out["other"].dup_cluster_id == "other"
    assert len(out["base"].minhash_bands) == PARAMS.bands


def test_short_texts_are_exact_deduped_only(spark, make_cfg):
    rows = [("a", "很好很好的", None, None), ("b", "很好很好吧", None, None), ("c", "很好很好的!", None, None)]
    out = {
        r.review_id: r for r in dedupe.assign_clusters(cleaned_frame(spark, make_cfg, rows), PARAMS, 0.8, 10).collect()
    }
    assert out["b"].outcome == "kept"  # near-ish but too short to compare
    assert out["c"].outcome == "exact_duplicate"  # same key as a
    assert out["a"].minhash_bands is None


def test_clusters_are_the_same_under_any_partitioning(spark, make_cfg):
    rows = [
        (f"r{i:02d}", text, None, None)
        for i, text in enumerate([BASE, OTHER, *(t for t, _ in NEAR.values()), BASE, OTHER + "。"])
    ]
    df = cleaned_frame(spark, make_cfg, rows)
    results = [
        sorted(
            (r.review_id, r.survivor_id, r.outcome)
            for r in dedupe.assign_clusters(df.repartition(n), PARAMS, 0.8, 10).collect()
        )
        for n in (1, 2, 8)
    ]
    assert results[0] == results[1] == results[2]


@pytest.mark.parametrize("local_max_edges", [0, 4, 100], ids=["spark", "spark-over-limit", "driver"])
def test_connected_components_of_a_chain_and_a_pair(spark, local_max_edges):
    edges = spark.createDataFrame(
        [("e", "d"), ("d", "c"), ("c", "b"), ("b", "a"), ("x", "y"), ("y", "y")], "a string, b string"
    )
    got = {r.node: r.component for r in dedupe.connected_components(edges, local_max_edges=local_max_edges).collect()}
    assert got == {"a": "a", "b": "a", "c": "a", "d": "a", "e": "a", "x": "x", "y": "x"}


def test_connected_components_of_no_edge(spark):
    edges = spark.createDataFrame([("a", "a")], "a string, b string")
    for limit in (0, 10):
        assert dedupe.connected_components(edges, local_max_edges=limit).count() == 0


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=60))
def test_union_find_components_equal_graph_search(pairs):
    edges = [(f"n{a:02d}", f"n{b:02d}") for a, b in pairs]
    adjacent: dict[str, set[str]] = {}
    for a, b in edges:
        adjacent.setdefault(a, set()).add(b)
        adjacent.setdefault(b, set()).add(a)
    expected = {}
    for start in adjacent:  # breadth-first search from every node: its component's minimum
        seen, frontier = {start}, [start]
        while frontier:
            frontier = [n for f in frontier for n in adjacent[f] if n not in seen]
            seen.update(frontier)
        expected[start] = min(seen)
    assert dedupe.components_of(edges) == expected


def test_label_conflict_policies(spark, make_cfg):
    """One cluster whose survivor says positive and whose two duplicates say negative, resolved by
    each policy (the clusters computed once)."""
    rows = [
        ("s", BASE, "2024-01-01 00:00:00", "positive"),
        ("d1", BASE, None, "negative"),
        ("d2", NEAR["changed_word"][0], None, "negative"),
    ]
    clusters = dedupe.assign_clusters(cleaned_frame(spark, make_cfg, rows), PARAMS, 0.8, 10)
    clustered = spark.createDataFrame(clusters.collect(), clusters.schema)  # three rows: resolved three times
    got = {}
    for policy in ("majority", "survivor", "drop"):
        out = dedupe.resolve_labels(clustered, policy).where("review_id = 's'").first()
        got[policy] = (out.label, out.label_conflict)
    assert got == {"majority": ("negative", True), "survivor": ("positive", True), "drop": (None, True)}


def test_shuffles_are_sized_by_the_population_and_put_back(spark):
    """From dedupe on, a run's shuffles get one partition per ``spark.rows_per_partition`` rows
    (never fewer than configured), and the session gets its own setting back afterwards."""
    from reviewlake.core.spark import SHUFFLE_PARTITIONS, shuffle_partitions_restored, size_shuffles

    configured = spark.conf.get(SHUFFLE_PARTITIONS)
    with shuffle_partitions_restored(spark):
        assert size_shuffles(spark, 10, 50_000) == int(configured)
        assert size_shuffles(spark, 3_477_399, 50_000) == 70
        assert spark.conf.get(SHUFFLE_PARTITIONS) == "70"
        assert size_shuffles(spark, 10, 50_000) == 70  # never fewer than the session has
    assert spark.conf.get(SHUFFLE_PARTITIONS) == configured

"""The gold tables from silver's labelled rows: the split (by dedupe cluster), the vocabulary
(train split only), the label ids, and the features (padded token ids, TF-IDF, label ids).

Pure apart from the small collects the next steps need on the driver (rows per split and label,
the vocabulary, the train split's token-count percentiles); figures go to the run report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from reviewlake.core.report import RunReport
from reviewlake.core.settings import Features, Labels
from reviewlake.core.spark import HELD
from reviewlake.features.sequences import token_ids_column
from reviewlake.features.split import SPLITS, assign_split
from reviewlake.features.tfidf import add_tfidf
from reviewlake.features.vocab import fit_vocab, vocab_version

log = logging.getLogger(__name__)

FEATURE_COLUMNS = ("review_id", "split", "label_id", "token_ids", "tfidf", "vocab_version")
PERCENTILES = (50, 90, 95, 99)


@dataclass(frozen=True)
class Vocabulary:
    """The fitted vocabulary on the driver: ``(token, token_id, doc_freq)`` rows and its version."""

    rows: list[tuple[str, int, int]]
    version: str

    @property
    def ids(self) -> dict[str, int]:
        return {token: i for token, i, _ in self.rows}

    @property
    def tokens_by_id(self) -> list[str]:
        return [token for token, _, _ in sorted(self.rows, key=lambda r: r[1])]


@dataclass(frozen=True)
class Gold:
    """What a features run publishes: the three tables, and what their gate checks."""

    vocab: DataFrame
    labels: DataFrame
    features: DataFrame
    n_classes: int
    max_len: int
    feature_rows: int
    vocab_rows: int


def label_ids(classes: Sequence[str], present: set[str]) -> dict[str, int]:
    """Ids for the labels present in the data, in the configured canonical order."""
    unknown = present - set(classes)
    if unknown:
        raise ValueError(f"labels {sorted(unknown)} not in labels.classes {list(classes)}")
    return {label: i for i, label in enumerate(c for c in classes if c in present)}


def length_distribution(train: DataFrame) -> dict[str, int]:
    """Token counts of the train split: percentiles ``p50``.. ``p99`` (approximate) and ``max``."""
    n = F.size(F.coalesce(F.col("tokens"), F.array()))
    row = train.agg(
        F.percentile_approx(n, [p / 100 for p in PERCENTILES], 10_000).alias("p"), F.max(n).alias("max")
    ).first()
    out = {f"p{p}": int(v) for p, v in zip(PERCENTILES, row["p"] or [0] * len(PERCENTILES), strict=True)}
    return {**out, "max": int(row["max"] or 0)}


def choose_max_len(features: Features, lengths: dict[str, int]) -> int:
    """``features.max_len``, or with ``auto`` the ``features.max_len_percentile`` of the train
    lengths, at most ``features.max_len_cap`` and at least 1."""
    if features.max_len != "auto":
        return features.max_len
    return max(1, min(features.max_len_cap, lengths[f"p{features.max_len_percentile}"]))


def split_rows(silver: DataFrame, features: Features, report: RunReport) -> tuple[DataFrame, dict]:
    """Silver's labelled rows with their ``split`` (persisted: every later step reads it), and the
    rows per ``(split, label)``."""
    labelled = silver.where(F.col("label").isNotNull()).select("review_id", "label", "tokens", "dup_cluster_id")
    with report.stage("split") as st:
        split = assign_split(labelled, features.split, features.seed).persist(HELD)
        counts = {(r["split"], r["label"]): r["count"] for r in split.groupBy("split", "label").count().collect()}
        st.rows_in = st.rows_out = sum(counts.values())
        st.detail = {"per_split_label": {f"{s}/{lab}": n for (s, lab), n in sorted(counts.items())}}
    return split, counts


def vocabulary(train: DataFrame, features: Features, report: RunReport) -> Vocabulary:
    """The vocabulary fitted on the train split, collected (it is at most ``features.vocab_size`` rows)."""
    with report.stage("vocab") as st:
        fitted = fit_vocab(train, features.vocab_size, features.min_df).collect()
        rows = [(r["token"], r["token_id"], r["doc_freq"]) for r in fitted]
        vocab = Vocabulary(rows, vocab_version([(t, i) for t, i, _ in rows]))
        st.rows_out = len(rows)
        st.detail = {"vocab_version": vocab.version}
    return vocab


def build_gold(silver: DataFrame, features: Features, labels: Labels, report: RunReport) -> Gold:
    """The gold tables from the labelled rows of ``silver``."""
    split, counts = split_rows(silver, features, report)
    train = split.where(F.col("split") == "train")
    vocab = vocabulary(train, features, report)
    spark = silver.sparkSession
    mapping = label_ids(labels.classes, {lab for _, lab in counts})
    lengths = length_distribution(train)
    max_len = choose_max_len(features, lengths)
    log.info("train token lengths %s -> max_len %d", lengths, max_len)
    label_map = F.create_map(*[F.lit(x) for kv in mapping.items() for x in kv])
    rows = (
        add_tfidf(split, train, vocab.tokens_by_id)
        .withColumn("label_id", F.element_at(label_map, F.col("label")).cast("int"))
        .withColumn("token_ids", token_ids_column(F.col("tokens"), vocab.ids, max_len))
        .withColumn("vocab_version", F.lit(vocab.version))
        .select(*FEATURE_COLUMNS)
    )
    report.summary["token_lengths_train"] = lengths
    report.summary["features"] = {
        "rows": sum(counts.values()),
        "vocab_size": len(vocab.rows),
        "vocab_version": vocab.version,
        "labels": mapping,
        "max_len": max_len,
        "per_split": {s: sum(n for (sp, _), n in counts.items() if sp == s) for s in SPLITS},
    }
    return Gold(
        vocab=spark.createDataFrame(vocab.rows, "token string, token_id int, doc_freq long").withColumn(
            "vocab_version", F.lit(vocab.version)
        ),
        labels=spark.createDataFrame(sorted(mapping.items(), key=lambda kv: kv[1]), "label string, label_id int"),
        features=rows,
        n_classes=len(mapping),
        max_len=max_len,
        feature_rows=sum(counts.values()),
        vocab_rows=len(vocab.rows),
    )

"""Reading what training learns from: gold.features (ordered by ``review_id``, so independent of
partitioning), gold.vocab and gold.labels, collected once on the driver and checked against the
contracts the model relies on; with ``with_text`` joined, in the same read, with silver.reviews'
``text`` and ``tokens``, what the linear models fit on and score (reviewlake/train/linear.py).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from reviewlake.core import delta_io, tables
from reviewlake.core.settings import Settings
from reviewlake.errors import InputError, InvariantError
from reviewlake.text.serving import vocab_lines
from reviewlake.train import label_drop
from reviewlake.train.data import SPLITS, GoldData, SplitInputs, SplitText

log = logging.getLogger(__name__)

FEATURE_COLUMNS = ("review_id", "split", "label_id", "token_ids", "vocab_version")
IN_SILVER = "_in_silver"  # true on the rows silver.reviews has (a left join leaves it null elsewhere)


def table_uris(cfg: Settings) -> dict[str, str]:
    """The gold tables training reads (features, vocab, labels), by short name."""
    return tables.uris(cfg, "gold/features", "gold/vocab", "gold/labels")


def read_gold(spark: SparkSession, cfg: Settings, *, with_text: bool) -> tuple[GoldData, DataFrame | None]:
    """The gold tables on the driver, checked; with ``with_text`` also every split's silver ``text``
    and ``tokens`` (every gold row must still have its silver row), and the frame the linear models
    fit on: gold.features' rows (``review_id``, ``split``, ``label`` as double...) with ``text`` and
    ``tokens``, cached since it is collected here and every kind and regParam reads it again (the
    caller unpersists it). With ``train.label_issues=drop`` the train and validation rows of
    gold/label_issues are left out of both (in the frame their split is ``dropped``: reviewlake/train/label_drop.py)."""
    t = table_uris(cfg)
    features = _require(spark, t["features"], "gold.features")
    vocab = _require(spark, t["vocab"], "gold.vocab")
    labels = _require(spark, t["labels"], "gold.labels")
    queue = label_drop.queue_to_drop(spark, cfg)
    class_names = _class_names(labels)
    lines, vocab_versions = _vocabulary(vocab)
    rows = label_drop.mark_dropped(spark, features.select(*FEATURE_COLUMNS), queue)
    if with_text:
        rows = _with_silver(spark, cfg, rows).cache()
    try:
        pdf, use = label_drop.without_dropped(rows.orderBy("review_id").toPandas(), queue)
        if pdf.empty:
            raise InputError(f"gold.features at {t['features']} is empty")
        vocab_version = _check_features(pdf, vocab_versions)
        splits, max_len = _splits(pdf, cfg, vocab_size=len(lines), n_classes=len(class_names))
        text = _text(pdf) if with_text else None
    except BaseException:
        if with_text:
            rows.unpersist()
        raise
    gold = GoldData(
        splits=splits,
        max_len=max_len,
        vocab_size=len(lines),
        class_names=class_names,
        vocab_lines=lines,
        vocab_version=vocab_version,
        tables=t if queue is None else {**t, "label_issues": queue.uri},
        table_versions=_table_versions(spark, t, queue),
        label_issues=use,
        text=text,
    )
    return gold, rows if with_text else None


def _table_versions(spark: SparkSession, t: dict[str, str], queue: label_drop.Queue | None) -> dict[str, int | None]:
    """The latest version of each table read; of gold/label_issues the one read (drop only)."""
    versions = {k: delta_io.version(spark, uri) for k, uri in t.items()}
    return versions if queue is None else {**versions, "label_issues": queue.version}


def _require(spark: SparkSession, uri: str, name: str) -> DataFrame:
    if not delta_io.exists(spark, uri):
        raise InputError(f"{name} not found at {uri}: run `make features` first")
    return delta_io.read(spark, uri)


def _class_names(labels: DataFrame) -> list[str]:
    """gold.labels' class names in id order; the ids must be 0..K-1 with K >= 2."""
    label_rows = labels.select("label", "label_id").orderBy("label_id").collect()
    class_names = [r["label"] for r in label_rows]
    if [r["label_id"] for r in label_rows] != list(range(len(label_rows))) or len(class_names) < 2:
        raise InvariantError(f"gold.labels must hold ids 0..K-1 with K >= 2, got {[tuple(r) for r in label_rows]}")
    return class_names


def _vocabulary(vocab: DataFrame) -> tuple[list[str], set[str]]:
    """gold.vocab as the lines of vocab.txt (line i = token id i), and its vocab versions (one)."""
    vocab_rows = vocab.select("token", "token_id", "vocab_version").collect()
    vocab_versions = {r["vocab_version"] for r in vocab_rows}
    if len(vocab_versions) > 1:
        raise InvariantError(f"gold.vocab mixes vocab versions {sorted(vocab_versions)}")
    return vocab_lines((r["token"], r["token_id"]) for r in vocab_rows), vocab_versions


def _with_silver(spark: SparkSession, cfg: Settings, rows: DataFrame) -> DataFrame:
    silver_uri = tables.uri(cfg, "silver", "reviews")
    if not delta_io.exists(spark, silver_uri):
        raise InputError(f"silver.reviews not found at {silver_uri}: the linear models read its text")
    silver = delta_io.read(spark, silver_uri).select("review_id", "text", "tokens", F.lit(True).alias(IN_SILVER))
    return rows.withColumn("label", F.col("label_id").cast("double")).join(silver, "review_id", "left")


def _check_features(pdf: pd.DataFrame, vocab_versions: set[str]) -> str:
    """gold.features' splits, vocab version (gold.vocab's) and non-null columns; returns the version."""
    unknown_splits = set(pdf["split"]) - set(SPLITS)
    if unknown_splits:
        raise InvariantError(f"gold.features has unknown splits {sorted(unknown_splits)}")
    feature_versions = set(pdf["vocab_version"])
    if len(feature_versions) != 1 or (vocab_versions and feature_versions != vocab_versions):
        raise InvariantError(
            f"gold.features vocab_version {sorted(feature_versions)} does not match gold.vocab {sorted(vocab_versions)}"
        )
    for column in ("token_ids", "label_id", "split"):
        if pdf[column].isna().any():
            raise InvariantError(f"gold.features has {int(pdf[column].isna().sum())} rows with null {column}")
    return str(feature_versions.pop())


def _splits(pdf: pd.DataFrame, cfg: Settings, *, vocab_size: int, n_classes: int) -> tuple[dict[str, SplitInputs], int]:
    """Every split's rows as named arrays, and the sequence length (one for all rows)."""
    lengths = {len(ids) for ids in pdf["token_ids"]}
    if len(lengths) != 1:
        raise InvariantError(f"gold.features token_ids have different lengths {sorted(lengths)}")
    max_len = lengths.pop()
    configured = cfg.features.max_len
    if configured != "auto" and max_len != configured:  # auto: the features run chose it from the data
        log.warning(
            "gold.features sequences are %d long, features.max_len is %s: the model follows the data",
            max_len,
            configured,
        )
    x_all = np.stack([np.asarray(ids, dtype=np.int32) for ids in pdf["token_ids"]])
    y_all = pdf["label_id"].to_numpy(dtype=np.int32)
    if int(x_all.max()) >= vocab_size:
        raise InvariantError(f"gold.features uses token id {int(x_all.max())}, beyond gold.vocab ({vocab_size} ids)")
    if y_all.min() < 0 or y_all.max() >= n_classes:
        raise InvariantError(f"gold.features label_id outside 0..{n_classes - 1}")
    review_ids = pdf["review_id"].to_numpy()
    splits = {}
    for split in SPLITS:
        mask = (pdf["split"] == split).to_numpy()
        splits[split] = SplitInputs(
            review_ids=review_ids[mask], labels=y_all[mask], token_ids=x_all[mask].reshape(-1, max_len)
        )
    if len(splits["train"]) == 0 or len(splits["test"]) == 0:
        raise InputError(f"gold.features needs train and test rows, has { ({s: len(splits[s]) for s in SPLITS}) }")
    return splits, max_len


def _text(pdf: pd.DataFrame) -> dict[str, SplitText]:
    """Every split's silver ``text`` and ``tokens``, in gold's row order; every gold row must have
    its silver row."""
    text = {}
    for split in SPLITS:
        rows = pdf[(pdf["split"] == split).to_numpy()]
        missing = int(rows[IN_SILVER].isna().sum())
        if missing:
            raise InputError(
                f"{missing} {split} rows of gold.features have no silver.reviews row: silver "
                "changed after `make features`; run it again"
            )
        text[split] = SplitText(text=list(rows["text"]), tokens=list(rows["tokens"]))
    return text

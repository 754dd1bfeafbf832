"""Label issues: the labelled reviews whose given label their own text contradicts, ranked for
people to check (gold/label_issues, written by reviewlake/jobs/label_issues.py).

Three steps, each a function here:

1. :func:`read_labelled`: every labelled row (gold/features' ``review_id`` and ``label_id``, the
   class names of gold/labels) with its silver ``text`` and duplicate cluster, and its fold
   (:func:`fold_column`): ``pmod(xxhash64(dup_cluster_id, seed), folds)``, so every copy of a
   review (exact or near: one cluster) lands in the same fold, whatever the partitioning. A copy
   left in the training part would vouch for its twin's label (the leak the split avoids the
   same way: reviewlake/features/split.py). The rows (ids, texts, labels, folds) are collected on
   the driver, at most ``label_issues.max_driver_rows`` of them (:func:`check_driver_rows`: more
   stops the job before anything is collected).
2. :func:`out_of_fold_probabilities`: for each fold, the ``char_1_4gram`` linear model
   (reviewlake/train/linear.py: Spark ML's TF-IDF + logistic regression, one ``reg_param``) whose
   regression is fitted on the other folds, and its numpy form's probabilities for the fold's rows
   on the driver. Every row's probabilities come from a model that never saw its label (nor a
   copy's). The TF-IDF vocabulary and idf, which read no label, are fitted once on every row
   (:func:`reviewlake.train.linear.fit_folds`): one featurization instead of one per fold.
3. :func:`rank_issues`: confident learning on the driver: ``cleanlab.filter.find_label_issues``
   flags the rows (``label_issues.filter_by``), ``cleanlab.rank.get_label_quality_scores`` scores
   every row (``label_issues.rank_by``; low = suspect); the flagged rows ordered by that score
   (then ``review_id``) get ranks 1, 2, ... and, as the suggested label, their most probable class
   other than the given one.

Folds, row order and the order of ties are deterministic; the fits are not to the bit from one
run to the next (Spark ML's logistic regression merges its tasks' partial sums in the order they
finish, and L-BFGS carries such last-digit differences on): two runs on the same rows gave label
qualities up to 1e-3 apart, and a row at cleanlab's cut in one queue and not the other. The job
rebuilds the queue only when gold/features or the settings change, so the published queue moves
only then.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from reviewlake.core import delta_io, tables
from reviewlake.core.settings import LabelIssues, Settings
from reviewlake.errors import ConfigError, InputError
from reviewlake.train import linear

log = logging.getLogger(__name__)

KIND = "char_1_4gram"
ISSUE_COLUMNS = ("review_id", "given_label", "suggested_label", "label_quality", "rank")
SCHEMA = (
    "review_id string, given_label string, suggested_label string, label_quality double, rank int, "
    "run_id string, features_version long, found_at timestamp"
)


def fold_column(cluster: str | Column, folds: int, seed: int) -> Column:
    """The fold (0 .. ``folds`` - 1) of each row, from its duplicate cluster id alone."""
    col = F.col(cluster) if isinstance(cluster, str) else cluster
    return F.pmod(F.xxhash64(col, F.lit(int(seed))), F.lit(int(folds))).cast("int")


def check_driver_rows(rows: int, max_driver_rows: int) -> None:
    """ConfigError (exit 2) when ``rows`` labelled rows are more than the driver may hold."""
    if rows > max_driver_rows:
        raise ConfigError(
            f"{rows:,} labelled rows exceed label_issues.max_driver_rows ({max_driver_rows:,}): the driver "
            "holds every labelled row's text and probabilities; raise it with the driver's memory "
            "(--conf label_issues.max_driver_rows=N, spark-submit --driver-memory)"
        )


@dataclass(frozen=True)
class Labelled:
    """The labelled rows on the driver, ordered by ``review_id``: their ``texts``, ``labels`` (class
    ids of ``class_names``) and ``folds``; ``features_version``: the gold/features version read."""

    review_ids: np.ndarray
    texts: list[str]
    labels: np.ndarray
    folds: np.ndarray
    class_names: list[str]
    features_version: int

    def __len__(self) -> int:
        return len(self.review_ids)


def table_uris(cfg: Settings) -> dict[str, str]:
    """What the job reads (silver, gold features and labels) and writes (label_issues), by short name."""
    return tables.uris(cfg, "silver/reviews", "gold/features", "gold/labels", "gold/label_issues")


def inputs_version(spark: SparkSession, cfg: Settings) -> int:
    """gold/features' latest data version (OPTIMIZE and VACUUM skipped), what the queue is built
    from; InputError when a table the job reads is missing."""
    t = table_uris(cfg)
    for key, name in (("features", "gold.features"), ("labels", "gold.labels"), ("silver", "silver.reviews")):
        if not delta_io.exists(spark, t[key]):
            raise InputError(f"{name} not found at {t[key]}: run `make features` first")
    return int(delta_io.last_data_commit(spark, t["features"])[0])


def read_labelled(spark: SparkSession, cfg: Settings, features_version: int) -> tuple[DataFrame, Labelled]:
    """The labelled rows as a frame to fit on (``review_id``, ``text``, ``label`` double, ``fold``,
    and ``_missing``, which no fit reads; cached: every fold reads it, the caller unpersists it)
    and collected (:class:`Labelled`). InputError when a gold row has no silver row (silver moved
    since ``make features``); ConfigError when the rows are more than ``label_issues.max_driver_rows``."""
    t = table_uris(cfg)
    class_names = _class_names(delta_io.read(spark, t["labels"]))
    gold = delta_io.read(spark, t["features"]).select("review_id", "label_id")
    silver = delta_io.read(spark, t["silver"]).select("review_id", "text", "dup_cluster_id")
    frame = (
        gold.join(silver, "review_id", "left")
        .select(
            "review_id",
            "text",
            F.col("label_id").cast("double").alias("label"),
            fold_column("dup_cluster_id", cfg.label_issues.folds, cfg.label_issues.seed).alias("fold"),
            F.col("dup_cluster_id").isNull().alias("_missing"),
        )
        .cache()
    )
    try:
        labelled = _collect(frame, cfg.label_issues, class_names, features_version)
    except BaseException:
        frame.unpersist()
        raise
    return frame, labelled


def _class_names(labels: DataFrame) -> list[str]:
    rows = labels.select("label", "label_id").orderBy("label_id").collect()
    if [r["label_id"] for r in rows] != list(range(len(rows))) or len(rows) < 2:
        raise InputError(f"gold.labels must hold ids 0..K-1 with K >= 2, got {[tuple(r) for r in rows]}")
    return [r["label"] for r in rows]


def _collect(frame: DataFrame, settings: LabelIssues, class_names: list[str], features_version: int) -> Labelled:
    counts = frame.agg(F.count(F.lit(1)).alias("n"), F.count(F.when(F.col("_missing"), 1)).alias("missing")).first()
    if counts["missing"]:
        raise InputError(
            f"{counts['missing']} rows of gold.features have no silver.reviews row: silver changed "
            "after `make features`; run it again"
        )
    check_driver_rows(counts["n"], settings.max_driver_rows)
    pdf = frame.select("review_id", "text", "label", "fold").orderBy("review_id").toPandas()
    if pdf.empty:
        raise InputError("gold.features holds no labelled rows")
    return Labelled(
        review_ids=pdf["review_id"].to_numpy(dtype=object),
        texts=list(pdf["text"]),
        labels=pdf["label"].to_numpy(dtype=np.int64),
        folds=pdf["fold"].to_numpy(dtype=np.int64),
        class_names=class_names,
        features_version=features_version,
    )


def out_of_fold_probabilities(frame: DataFrame, labelled: Labelled, settings: LabelIssues) -> np.ndarray:
    """[n, K] class probabilities of every row of ``labelled`` (its order), each from the
    ``char_1_4gram`` model fitted on the other folds. A class that a fold's training part lacks
    gets probability 0 for that fold's rows. InputError when all rows share one fold."""
    if len(set(labelled.folds.tolist())) < 2:
        raise InputError(
            f"all {len(labelled)} labelled rows fall in one fold (label_issues.folds={settings.folds}): "
            "too few duplicate clusters to cross-validate"
        )
    probs = np.zeros((len(labelled), len(labelled.class_names)), dtype=np.float64)
    rows = frame.select("text", "label", "fold")
    for fold, model in linear.fit_folds(rows, KIND, settings.reg_param, max_iter=settings.max_iter):
        held = np.flatnonzero(labelled.folds == fold)
        p = model.probabilities([labelled.texts[i] for i in held])
        probs[held, : p.shape[1]] = p
        log.debug("fold %d: %d held-out rows scored (%d features)", fold, len(held), len(model.vocabulary))
    return probs


def suggested_labels(labels: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Each row's most probable class other than its given one (the first such on a tie)."""
    masked = np.array(probs, dtype=np.float64, copy=True)
    masked[np.arange(len(labels)), labels] = -np.inf
    return masked.argmax(axis=1)


def rank_issues(
    review_ids: Sequence[str],
    labels: np.ndarray,
    probs: np.ndarray,
    class_names: Sequence[str],
    settings: LabelIssues,
) -> pd.DataFrame:
    """The flagged rows (confident learning, ``settings.filter_by``) as ``ISSUE_COLUMNS``, most
    suspect first: ``label_quality`` (``settings.rank_by``, in [0, 1]) ascending, then
    ``review_id``; ``rank`` 1, 2, ... Empty (with the columns) when nothing is flagged."""
    from cleanlab.filter import find_label_issues  # lazy: importing cleanlab costs a second or two
    from cleanlab.rank import get_label_quality_scores

    ids = np.asarray(review_ids, dtype=object)
    labels = np.asarray(labels, dtype=np.int64)
    quality = get_label_quality_scores(labels, probs, method=settings.rank_by)
    # n_jobs=1: no worker processes forked from a Spark driver
    flagged = np.flatnonzero(find_label_issues(labels, probs, filter_by=settings.filter_by, n_jobs=1))
    order = flagged[np.lexsort((ids[flagged].astype(str), quality[flagged]))]
    names = np.asarray(class_names, dtype=object)
    return pd.DataFrame(
        {
            "review_id": ids[order].astype(str),
            "given_label": names[labels[order]].astype(str),
            "suggested_label": names[suggested_labels(labels[order], probs[order])].astype(str),
            "label_quality": quality[order].astype(np.float64),
            "rank": np.arange(1, len(order) + 1, dtype=np.int32),
        },
        columns=list(ISSUE_COLUMNS),
    )


def issues_frame(
    spark: SparkSession, issues: pd.DataFrame, run_id: str, features_version: int, found_at: datetime
) -> DataFrame:
    """gold/label_issues' rows: ``issues`` (:func:`rank_issues`) with the run's lineage columns
    (``run_id``, ``features_version``: the gold/features version the labels came from, ``found_at``)."""
    rows = [
        (r.review_id, r.given_label, r.suggested_label, float(r.label_quality), int(r.rank))
        for r in issues.itertuples(index=False)
    ]
    return spark.createDataFrame([(*r, run_id, int(features_version), found_at) for r in rows], SCHEMA)

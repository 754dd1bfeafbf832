"""``train.label_issues``: what training does with the reviews of gold/label_issues, the queue of
likely mislabelled reviews (reviewlake/jobs/label_issues.py). ``keep``: nothing. ``drop``: the
queued rows of the train and validation splits are left out of everything training fits and
chooses on, the LSTM's arrays and the linear models' frame alike (both come from the one read of
reviewlake/train/gold.py, which marks them with :func:`mark_dropped` before anything is cached or
collected); the test split stays as sampled, so the test figures of a keep and a drop run are on
the same rows.

The queue must have been built from the gold/features version being trained on: the label_issues
job records that version in its commit's ``userMetadata`` (``features_version``: gold/features'
latest data version, OPTIMIZE and VACUUM not counted), compared here with the same version now.
A missing or stale queue stops the job (InputError, exit 2) with one line naming `make label-issues`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from reviewlake.core import delta_io, tables
from reviewlake.core.settings import Settings
from reviewlake.errors import InputError
from reviewlake.train.data import SPLITS, LabelIssuesUse

DROPPED = "dropped"  # the split of a dropped row: the linear models fit on `train`, choose on `validation`
DROPPED_FROM = ("train", "validation")
SAMPLED_SPLIT = "_sampled_split"  # a dropped row's split as sampled, to count the drops by split
_QUEUED = "_queued"


@dataclass(frozen=True)
class Queue:
    """The gold/label_issues snapshot a drop run reads: its ``uri``, the ``version`` of its latest
    data commit and the gold/features version it was built from."""

    uri: str
    version: int
    features_version: int


def queue_to_drop(spark: SparkSession, cfg: Settings) -> Queue | None:
    """None with ``train.label_issues=keep``; with ``drop`` the queue to drop, built from
    gold/features' current data version, else InputError (missing, or built from another version)."""
    if cfg.train.label_issues == "keep":
        return None
    uri, features_uri = tables.uri(cfg, "gold", "label_issues"), tables.uri(cfg, "gold", "features")
    if not delta_io.exists(spark, uri):
        raise InputError(
            f"gold.label_issues not found at {uri}: train.label_issues=drop needs it; run `make label-issues`"
        )
    version, meta = delta_io.last_data_commit(spark, uri)
    built_from = delta_io.parse_metadata(meta).get("features_version")
    current, _ = delta_io.last_data_commit(spark, features_uri)
    if built_from != current:
        raise InputError(
            f"gold.label_issues (version {version}) was built from gold.features version {built_from}, "
            f"training reads version {current}: run `make label-issues` (or train.label_issues=keep)"
        )
    return Queue(uri, int(version), int(current))


def mark_dropped(spark: SparkSession, rows: DataFrame, queue: Queue | None) -> DataFrame:
    """``rows`` (gold.features' ``review_id`` and ``split``...) with ``split`` set to :data:`DROPPED`
    on the train and validation rows that ``queue`` holds and their split as sampled in
    :data:`SAMPLED_SPLIT`; ``rows`` unchanged without a queue."""
    if queue is None:
        return rows
    queued = delta_io.read(spark, queue.uri, queue.version).select("review_id", F.lit(True).alias(_QUEUED))
    drop = F.col(_QUEUED).isNotNull() & F.col("split").isin(*DROPPED_FROM)
    return (
        rows.join(F.broadcast(queued), "review_id", "left")
        .withColumn(SAMPLED_SPLIT, F.col("split"))
        .withColumn("split", F.when(drop, F.lit(DROPPED)).otherwise(F.col("split")))
        .drop(_QUEUED)
    )


def without_dropped(pdf: pd.DataFrame, queue: Queue | None) -> tuple[pd.DataFrame, LabelIssuesUse]:
    """The collected rows (of a frame :func:`mark_dropped` marked) without the dropped ones, and
    what was dropped from which split."""
    if queue is None:
        return pdf, LabelIssuesUse("keep", dict.fromkeys(SPLITS, 0))
    dropped = (pdf["split"] == DROPPED).to_numpy()
    counts = pdf.loc[dropped, SAMPLED_SPLIT].value_counts()
    use = LabelIssuesUse("drop", {s: int(counts.get(s, 0)) for s in SPLITS}, queue.version, queue.features_version)
    return pdf.loc[~dropped].drop(columns=[SAMPLED_SPLIT]).reset_index(drop=True), use

"""Deterministic, stratified train/validation/test split by dedupe cluster.

Each cluster gets a pseudo-random position from ``xxhash64(cluster, seed)``; clusters are ranked
by it within their label and cut at the configured ratios. So the split depends only on cluster
ids, labels, seed and ratios (never on partitioning), every label is split at the same ratios,
and all rows of one cluster land in the same split.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window

from reviewlake.core.settings import Split

SPLITS = ("train", "validation", "test")


def assign_split(
    df: DataFrame, ratios: Split, seed: int, cluster_col: str = "dup_cluster_id", label_col: str = "label"
) -> DataFrame:
    """``df`` with a ``split`` column; the ``features.split`` ratios are normalised to sum to 1
    (the settings hold their sum above 0)."""
    total = ratios.train + ratios.validation + ratios.test
    cut_train = ratios.train / total
    cut_val = cut_train + ratios.validation / total

    clusters = df.groupBy(cluster_col).agg(F.min(label_col).alias("_label"))
    w = Window.partitionBy("_label").orderBy("_h", cluster_col)
    ranked = (
        clusters.withColumn("_h", F.xxhash64(F.col(cluster_col), F.lit(int(seed))))
        .withColumn("_pos", (F.row_number().over(w) - 1) / F.count(F.lit(1)).over(Window.partitionBy("_label")))
        .select(
            cluster_col,
            F.when(F.col("_pos") < cut_train, "train")
            .when(F.col("_pos") < cut_val, "validation")
            .otherwise("test")
            .alias("split"),
        )
    )
    return df.join(ranked, cluster_col, "left")

"""Stage 3, dedupe: exact duplicates of the cleaned text.

Survivor of a group = earliest ``created_at`` (nulls last), then smallest ``review_id``: a total
order on row content, so the choice never depends on partitioning.
"""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window


def with_text_hash(df: DataFrame, text_col: str = "text") -> DataFrame:
    return df.withColumn("text_hash", F.sha2(F.col(text_col), 256))


def mark_exact_duplicates(df: DataFrame) -> DataFrame:
    """Add ``survivor_id`` (the group's survivor) and ``is_survivor`` per ``text_hash`` group."""
    order = [F.col("created_at").asc_nulls_last(), F.col("review_id").asc()]
    w = Window.partitionBy("text_hash").orderBy(*order)
    return (
        df.withColumn("survivor_id", F.first("review_id").over(w.rowsBetween(Window.unboundedPreceding, 0)))
        .withColumn("is_survivor", F.col("survivor_id") == F.col("review_id"))
    )

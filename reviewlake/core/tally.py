"""Row counts of several frames in one Spark action.

A job's figures (records read per file, rows written, rows per outcome or reason) are counted
together: one union, one aggregation, one ``collect``, instead of an action per figure.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def tally(**keyed: DataFrame) -> dict[str, dict]:
    """Rows per ``key`` of each frame, in one action: ``tally(a=df1, b=df2)`` ->
    ``{"a": {key: rows, ...}, "b": {...}}``. A frame without a ``key`` column is counted whole (its
    one key is None: ``sum(out["a"].values())`` is its row count); a frame without rows gives an
    empty dict."""
    frames = [
        df.select(
            F.lit(name).alias("_frame"),
            (F.col("key") if "key" in df.columns else F.lit(None)).cast("string").alias("key"),
        )
        for name, df in keyed.items()
    ]
    union = frames[0]
    for df in frames[1:]:
        union = union.unionByName(df)
    out: dict[str, dict] = {name: {} for name in keyed}
    for row in union.groupBy("_frame", "key").agg(F.count("*").alias("n")).collect():
        out[row["_frame"]][row["key"]] = int(row["n"])
    return out

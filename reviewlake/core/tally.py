"""Row counts of several frames in one Spark action.

A job's figures (records read per file, rows written, rows per outcome or reason) are counted
together: one union, one aggregation, one ``collect``, instead of an action per figure.
"""
from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def tally(**keyed: DataFrame) -> dict[str, dict]:
    """Rows per ``key`` of each frame (each a frame with a column ``key``), in one action:
    ``tally(a=df1, b=df2)`` -> ``{"a": {key: rows, ...}, "b": {...}}``; a frame without rows
    gives an empty dict. Frames whose rows are only to be counted select a constant key."""
    frames = [df.select(F.lit(name).alias("_frame"), F.col("key").cast("string").alias("key"))
              for name, df in keyed.items()]
    union = frames[0]
    for df in frames[1:]:
        union = union.unionByName(df)
    out: dict[str, dict] = {name: {} for name in keyed}
    for row in union.groupBy("_frame", "key").agg(F.count("*").alias("n")).collect():
        out[row["_frame"]][row["key"]] = int(row["n"])
    return out

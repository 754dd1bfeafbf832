"""Vocabulary by document frequency, fitted on the train split only.

Ids: 0 = padding, 1 = out-of-vocabulary, then 2.. by descending document frequency (ties by
token), so the same training data always gives the same ids.
"""

from __future__ import annotations

import hashlib

from pyspark.sql import DataFrame
from pyspark.sql import functions as F


def fit_vocab(train: DataFrame, vocab_size: int, min_df: int, tokens_col: str = "tokens") -> DataFrame:
    """(token, token_id, doc_freq) of the ``vocab_size`` most frequent tokens with df >= ``min_df``.

    The top rows are collected in order (at most ``vocab_size``: the caller collects them anyway)
    and numbered here: a window over them all would be one partition, which Spark warns about at
    every execution ("No Partition Defined for Window operation")."""
    doc_freq = (
        train.select(F.explode(F.array_distinct(tokens_col)).alias("token"))
        .groupBy("token")
        .agg(F.count(F.lit(1)).alias("doc_freq"))
        .where(F.col("doc_freq") >= int(min_df))
    )
    top = doc_freq.orderBy(F.col("doc_freq").desc(), F.col("token").asc()).limit(int(vocab_size)).collect()
    rows = [(r["token"], i + 2, r["doc_freq"]) for i, r in enumerate(top)]  # ids 0 and 1 are reserved
    return train.sparkSession.createDataFrame(rows, "token string, token_id int, doc_freq long")


def vocab_version(pairs: list[tuple[str, int]]) -> str:
    """Content hash of the (token, id) pairs: equal vocabularies have equal versions."""
    digest = hashlib.sha1()
    for token, token_id in sorted(pairs, key=lambda p: p[1]):
        digest.update(f"{token_id}\t{token}\n".encode())
    return "v" + digest.hexdigest()[:12]

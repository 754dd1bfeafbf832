"""Vocabulary by document frequency, fitted on the train split only.

Ids: 0 = padding, 1 = out-of-vocabulary, then 2.. by descending document frequency (ties by
token), so the same training data always gives the same ids.
"""

from __future__ import annotations

import hashlib

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.window import Window


def fit_vocab(train: DataFrame, vocab_size: int, min_df: int, tokens_col: str = "tokens") -> DataFrame:
    """(token, token_id, doc_freq) of the ``vocab_size`` most frequent tokens with df >= ``min_df``."""
    doc_freq = (
        train.select(F.explode(F.array_distinct(tokens_col)).alias("token"))
        .groupBy("token")
        .agg(F.count(F.lit(1)).alias("doc_freq"))
        .where(F.col("doc_freq") >= int(min_df))
    )
    order = [F.col("doc_freq").desc(), F.col("token").asc()]
    top = doc_freq.orderBy(*order).limit(int(vocab_size))
    # One window over at most vocab_size rows: a single partition is right here.
    w = Window.partitionBy(F.lit(0)).orderBy(*order)
    return top.withColumn("token_id", (F.row_number().over(w) + 1).cast("int")).select("token", "token_id", "doc_freq")


def vocab_version(pairs: list[tuple[str, int]]) -> str:
    """Content hash of the (token, id) pairs: equal vocabularies have equal versions."""
    digest = hashlib.sha1()
    for token, token_id in sorted(pairs, key=lambda p: p[1]):
        digest.update(f"{token_id}\t{token}\n".encode())
    return "v" + digest.hexdigest()[:12]

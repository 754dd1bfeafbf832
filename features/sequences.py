"""Token sequences to fixed-length id sequences (the one mapping used by features, scoring and
serving): known tokens to their id, unknown to OOV (1), truncated to and padded with 0 up to
``max_len``."""
from __future__ import annotations

from typing import Iterator, Mapping, Sequence

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from features.vocab import OOV_ID, PAD_ID


def tokens_to_ids(tokens: Sequence[str] | None, vocab: Mapping[str, int], max_len: int) -> list[int]:
    """Exactly ``max_len`` ids for ``tokens`` (post-truncation, post-padding)."""
    ids = [vocab.get(t, OOV_ID) for t in (tokens if tokens is not None else [])][:max_len]
    return ids + [PAD_ID] * (max_len - len(ids))


def token_ids_column(tokens: Column, vocab: Mapping[str, int], max_len: int) -> Column:
    """``array<int>`` column of :func:`tokens_to_ids`, in a vectorised pandas UDF.

    The vocabulary dict travels in the UDF closure (broadcast with the task), so no join.
    """
    mapping = dict(vocab)

    @F.pandas_udf(T.ArrayType(T.IntegerType()))
    def _ids(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        for batch in batches:
            yield batch.map(lambda toks: tokens_to_ids(toks, mapping, max_len))

    return _ids(tokens)

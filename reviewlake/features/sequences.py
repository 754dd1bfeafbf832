"""Token sequences to fixed-length id sequences as a Spark column (mapping: :mod:`reviewlake.text.ids`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from reviewlake.text.ids import tokens_to_ids


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

"""Stage 4, segment: the jieba segmenter of reviewlake/text/segment.py in an Iterator-of-Series
Arrow pandas UDF (one tokenizer per Python worker, built from the spec in the UDF's closure)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from reviewlake.text.segment import SegmenterSpec, segment_text


def tokens_column(text: Column, spec: SegmenterSpec) -> Column:
    """``array<string>`` of tokens for ``text``, computed by a vectorised pandas UDF."""

    @F.pandas_udf(T.ArrayType(T.StringType()))
    def _segment(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        for batch in batches:
            yield batch.map(lambda s: segment_text(s, spec))

    return _segment(text)

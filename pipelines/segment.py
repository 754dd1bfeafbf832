"""Stage 4, segment: jieba word segmentation in an Iterator-of-Series Arrow pandas UDF.

jieba is loaded once per Python worker (a lazy module-level singleton keyed by its settings);
the user dictionary and stopwords are read on the driver and travel inside the UDF closure, so
the job needs no shared filesystem for them.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Iterator

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from pipelines.core.config import Config, local_path, to_uri

_SPACE = re.compile(r"^\s*$")


@dataclass(frozen=True)
class SegmenterSpec:
    """Everything a worker needs to build the same segmenter as the driver."""
    user_dict: str = ""                 # content of the user dictionary (jieba format)
    stopwords: frozenset[str] = field(default_factory=frozenset)
    hmm: bool = True

    @classmethod
    def from_config(cls, cfg: Config) -> "SegmenterSpec":
        def read(key: str) -> str:
            value = cfg.get(key)
            return local_path(to_uri(value)).read_text(encoding="utf-8") if value else ""

        stop = frozenset(w.strip() for w in read("segment.stopwords").splitlines() if w.strip())
        return cls(read("segment.user_dict"), stop, bool(cfg.get("segment.hmm", True)))


_lock = threading.Lock()
_tokenizers: dict[int, object] = {}


def tokenizer(spec: SegmenterSpec):
    """The process-wide jieba Tokenizer for ``spec`` (built on first use, then reused)."""
    key = hash((spec.user_dict, spec.hmm))
    with _lock:
        tok = _tokenizers.get(key)
        if tok is None:
            import io
            import logging

            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            if spec.user_dict.strip():
                tok.load_userdict(io.StringIO(spec.user_dict))
            _tokenizers[key] = tok
    return tok


def segment_text(text: str | None, spec: SegmenterSpec) -> list[str]:
    """Tokens of one text: jieba's words minus whitespace and stopwords."""
    if not text:
        return []
    tok = tokenizer(spec)
    return [w for w in tok.lcut(text, HMM=spec.hmm) if not _SPACE.match(w) and w not in spec.stopwords]


def tokens_column(text: Column, spec: SegmenterSpec) -> Column:
    """``array<string>`` of tokens for ``text``, computed by a vectorised pandas UDF."""

    @F.pandas_udf(T.ArrayType(T.StringType()))
    def _segment(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        for batch in batches:
            yield batch.map(lambda s: segment_text(s, spec))

    return _segment(text)



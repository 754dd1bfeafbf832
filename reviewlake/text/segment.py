"""Word segmentation with jieba, pure Python (no pyspark): what the Spark UDF
(reviewlake/lake/segment.py) and the serving helper (reviewlake/text/serving.py) both call.

jieba is loaded once per process (a lazy module-level singleton keyed by its settings); the user
dictionary and stopwords are read once where the spec is built and travel inside it, so Spark
workers need no shared filesystem for them.

Backends (``segment.backend``): ``jieba`` (the reference) or ``jieba_c`` (jieba with its route
search in C, built by ``make setup``; the same tokens, see :func:`_jieba_c_class`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from reviewlake.core.config import PACKAGE_CONF
from reviewlake.core.settings import Segment
from reviewlake.core.uris import local_path, to_uri
from reviewlake.errors import ConfigError

_SPACE = re.compile(r"^\s*$")


@dataclass(frozen=True)
class SegmenterSpec:
    """Everything a worker needs to build the same segmenter as the driver."""

    user_dict: str = ""  # content of the user dictionary (jieba format)
    stopwords: frozenset[str] = field(default_factory=frozenset)
    hmm: bool = True
    backend: str = "jieba"

    @classmethod
    def from_config(cls, segment: Segment) -> SegmenterSpec:
        """The spec of the ``segment`` settings (the user dictionary and stopwords read here)."""

        def read(value: str) -> str:
            if not value:
                return ""
            if str(value).startswith("package:"):
                return (PACKAGE_CONF / str(value)[len("package:") :]).read_text(encoding="utf-8")
            return local_path(to_uri(value)).read_text(encoding="utf-8")

        stop = frozenset(w.strip() for w in read(segment.stopwords).splitlines() if w.strip())
        backend = segment.backend
        if backend not in BACKENDS:
            raise ConfigError(f"segment.backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        if backend not in available_backends():
            raise ConfigError(f"segment.backend {backend}: its extension is not built here (run `make setup`)")
        return cls(read(segment.user_dict), stop, segment.hmm, backend)


BACKENDS = ("jieba", "jieba_c")


def _jieba_c_class():
    """jieba's Tokenizer with its DAG + best route (get_DAG, calc: about 60% of jieba's time)
    computed by reviewlake/text/_jieba_route.c, same dictionary, same arithmetic, so the same tokens
    (held equal on the whole bundled corpus by tests/unit/test_segment_backends.py). The
    HMM for unknown words stays jieba's Python.

    Why our own C and not jieba_fast 0.53: jieba_fast's route breaks ties between equally probable
    segmentations the other way (呵呵呵 -> 呵|呵呵, jieba: 呵呵|呵), caps the DAG at 12 words per
    position and splits runs of "-": it changes the tokens of 255 of the 35,124 corpus lines
    (still 65 once its character class is aligned with jieba's)."""
    from math import log

    import jieba

    try:
        from reviewlake.text import _jieba_route
    except ImportError as exc:  # e.g. an executor that got the code as a --py-files zip
        raise ImportError(
            "segment.backend jieba_c needs the compiled reviewlake.text._jieba_route on every "
            "worker (pip install the project there), or use segment.backend: jieba"
        ) from exc

    class JiebaC(jieba.Tokenizer):
        def get_DAG(self, sentence):
            return None

        def calc(self, sentence, DAG, route):
            self.check_initialized()
            route.update(enumerate(_jieba_route.route(self.FREQ, sentence, log(self.total))))

        def cut(self, sentence, cut_all=False, HMM=True, use_paddle=False):
            if cut_all:
                raise ValueError("segment backend jieba_c does not do cut_all (full mode): use jieba")
            return super().cut(sentence, cut_all=False, HMM=HMM, use_paddle=use_paddle)

    return JiebaC


def _new_tokenizer(backend: str):
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return _jieba_c_class()() if backend == "jieba_c" else jieba.Tokenizer()


def available_backends() -> list[str]:
    """The backends importable in this Python."""
    import importlib.util

    return ["jieba"] + (["jieba_c"] if importlib.util.find_spec("reviewlake.text._jieba_route") else [])


_lock = threading.Lock()
_tokenizers: dict[int, object] = {}


def tokenizer(spec: SegmenterSpec):
    """The process-wide jieba Tokenizer for ``spec`` (built on first use, then reused)."""
    key = hash((spec.user_dict, spec.backend))
    with _lock:
        tok = _tokenizers.get(key)
        if tok is None:
            import io

            tok = _new_tokenizer(spec.backend)
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

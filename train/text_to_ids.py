"""Tokens (or raw text) to the model's fixed-length id sequence: the one mapping shared by the
feature builder (gold.features ``token_ids``), batch scoring and serving.

Contract (DESIGN.md section 3, gold.vocab): id 0 = padding, id 1 = out of vocabulary, real tokens
have ids >= 2. A sequence keeps the *first* ``max_len`` tokens (head kept, tail truncated) and is
padded with 0 at the end, so it is always exactly ``max_len`` long.

``vocab.txt`` (written by :mod:`train.export`) holds one token per line, line i = token id i;
lines 0 and 1 are ``<pad>`` and ``<oov>``; an id with no token is an empty line.

Pure Python (no Spark, no TensorFlow): importable anywhere, including inside UDFs.
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from features.ids import OOV_ID, OOV_TOKEN, PAD_ID, PAD_TOKEN, tokens_to_ids  # noqa: F401  (re-exported)

# The same characters as the `whitespace` clean rule (Java regex `[\s\u3000]+`, where Java's `\s`
# is ASCII-only), replaced by one space, then trimmed of spaces.
_WHITESPACE = re.compile(r"[ \t\n\x0b\f\r\u3000]+")


def clean_text(text: str | None) -> str:
    """The text-rewriting part of the default clean rules (``nfkc`` then ``whitespace``) in plain
    Python, so that serving sees text the way silver does."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    return _WHITESPACE.sub(" ", text).strip(" ")


def text_to_ids(text: str | None, vocab: Mapping[str, int], max_len: int, spec) -> list[int]:
    """Raw review text -> ids, for serving: clean like silver, segment with jieba like silver
    (``spec`` is a :class:`pipelines.segment.SegmenterSpec`), then :func:`tokens_to_ids`."""
    from pipelines.segment import segment_text

    return tokens_to_ids(segment_text(clean_text(text), spec), vocab, max_len)


def vocab_lines(pairs: Iterable[tuple[str, int]]) -> list[str]:
    """The lines of ``vocab.txt`` for (token, token_id) pairs with ids >= 2 (gaps become empty lines)."""
    by_id: dict[int, str] = {}
    for token, token_id in pairs:
        token_id = int(token_id)
        if token_id < 2:
            raise ValueError(f"token {token!r} has reserved id {token_id} (0 = pad, 1 = oov)")
        if token_id in by_id:
            raise ValueError(f"token id {token_id} used twice ({by_id[token_id]!r}, {token!r})")
        if not token or "\n" in token or "\r" in token:
            raise ValueError(f"token {token!r} (id {token_id}) cannot be written one per line")
        by_id[token_id] = token
    size = max(by_id, default=1) + 1
    lines = [PAD_TOKEN, OOV_TOKEN] + [""] * (size - 2)
    for token_id, token in by_id.items():
        lines[token_id] = token
    return lines


def parse_vocab(lines: Sequence[str]) -> dict[str, int]:
    """token -> id from the lines of ``vocab.txt`` (reserved and empty lines skipped)."""
    return {token: i for i, token in enumerate(lines) if i >= 2 and token}


def load_vocab(path: str | Path) -> dict[str, int]:
    """token -> id from a ``vocab.txt`` file."""
    text = Path(path).read_text(encoding="utf-8")
    return parse_vocab(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"))

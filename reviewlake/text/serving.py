"""Tokens (or raw text) to the model's fixed-length id sequence: the one mapping shared by the
feature builder (gold.features ``token_ids``), batch scoring and serving.

Contract (docs/tables.md, gold.vocab): id 0 = padding, id 1 = out of vocabulary, real tokens
have ids >= 2. A sequence keeps the *first* ``max_len`` tokens (head kept, tail truncated) and is
padded with 0 at the end, so it is always exactly ``max_len`` long.

``vocab.txt`` (written by :mod:`reviewlake.train.export`) holds one token per line, line i = token id i;
lines 0 and 1 are ``<pad>`` and ``<oov>``; an id with no token is an empty line.

No TensorFlow and no Spark session (pyspark is imported for the segmenter's module only):
importable anywhere, including inside UDFs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reviewlake.text.ids import OOV_ID, OOV_TOKEN, PAD_ID, PAD_TOKEN, tokens_to_ids  # noqa: F401  (re-exported)

PREPROCESSING_FILE = "preprocessing.json"


def preprocessing(cfg) -> dict[str, Any]:
    """What turns raw text into tokens, self-contained (the user dictionary and stopwords inline):
    the ``clean`` config section (rule order and options) and the segmenter settings. Written next
    to each exported model, so serving cleans and segments as the training data was."""
    from reviewlake.text.segment import SegmenterSpec

    spec = SegmenterSpec.from_config(cfg.segment)
    return {
        "clean": cfg.clean.as_dict(),
        "segment": {
            "user_dict": spec.user_dict,
            "stopwords": sorted(spec.stopwords),
            "hmm": spec.hmm,
            "backend": spec.backend,
        },
    }


@dataclass
class TextToIds:
    """Raw review text -> the model's ids, as the pipeline does it: the clean map rules
    (:func:`reviewlake.text.clean_rules.python_cleaner`: the rules' Python forms, held equal to
    their Spark forms by a test), jieba with the same user dictionary and stopwords, the
    vocabulary, padding to ``max_len``."""

    clean: Callable[[str | None], str]
    spec: Any  # reviewlake.text.segment.SegmenterSpec
    vocab: Mapping[str, int]
    max_len: int

    @classmethod
    def from_preprocessing(cls, prep: Mapping[str, Any], vocab: Mapping[str, int], max_len: int) -> TextToIds:
        from reviewlake.core.settings import Clean, section
        from reviewlake.text.clean_rules import python_cleaner
        from reviewlake.text.segment import SegmenterSpec, available_backends

        seg = prep["segment"]
        # jieba_c gives jieba's tokens (tests/unit/test_segment_backends.py): a serving host
        # without the compiled extension uses plain jieba
        backend = seg.get("backend", "jieba")
        spec = SegmenterSpec(
            seg.get("user_dict", ""),
            frozenset(seg.get("stopwords", ())),
            bool(seg.get("hmm", True)),
            backend if backend in available_backends() else "jieba",
        )
        clean = section(Clean, prep["clean"], "clean.")
        return cls(python_cleaner(clean), spec, vocab, int(max_len))

    @classmethod
    def from_model_dir(cls, model_dir: str | Path) -> TextToIds:
        """The helper of an exported model version (``models/<version>/``)."""
        model_dir = Path(model_dir)
        params = json.loads((model_dir / "params.json").read_text(encoding="utf-8"))
        prep = json.loads((model_dir / PREPROCESSING_FILE).read_text(encoding="utf-8"))
        return cls.from_preprocessing(prep, load_vocab(model_dir / "vocab.txt"), int(params["max_len"]))

    def tokens(self, text: str | None) -> list[str]:
        from reviewlake.text.segment import segment_text

        return segment_text(self.clean(text), self.spec)

    def __call__(self, text: str | None) -> list[int]:
        return tokens_to_ids(self.tokens(text), self.vocab, self.max_len)


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

"""The ``jieba_c`` segmenter backend gives exactly jieba's tokens on every line of the bundled
corpus (raw and cleaned as the pipeline cleans it), HMM on and off, with the configured user
dictionary (in the system tier for its cost: about 35,000 lines segmented six times)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewlake.core.config import load_config
from tests.unit.test_segment_backends import both

DATA = Path(__file__).resolve().parents[2] / "data"


def corpus_lines() -> list[str]:
    return [
        line
        for name in ("pos.txt", "neg.txt")
        for line in (DATA / "landing" / name).read_text(encoding="utf-8").splitlines()
    ]


@pytest.mark.parametrize("hmm", [True, False])
def test_whole_corpus_token_for_token(segmenter_spec, hmm):
    lines = corpus_lines()
    assert len(lines) > 30_000
    ref, fast = both(segmenter_spec, hmm)
    differ = [(line, a, b) for line in lines if (a := ref.lcut(line, HMM=hmm)) != (b := fast.lcut(line, HMM=hmm))]
    assert not differ, differ[:3]


def test_whole_corpus_cleaned_as_the_pipeline_cleans(segmenter_spec):
    from reviewlake.text.clean_rules import python_cleaner

    cfg = load_config()
    clean = python_cleaner(cfg.clean, list(cfg.clean.rules))
    ref, fast = both(segmenter_spec, True)
    differ = [t for t in map(clean, corpus_lines()) if ref.lcut(t) != fast.lcut(t)]
    assert not differ, differ[:3]

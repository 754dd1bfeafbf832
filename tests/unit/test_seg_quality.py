"""Segmentation scoring (bench/quality/seg_scoring.py) on hand-checked examples."""

from __future__ import annotations

import pytest

from bench.quality.seg_scoring import evaluate, parse_gold_line, score, spans


def test_parse_gold_line():
    assert parse_gold_line("迈向/v  充满/v  希望/n  ——/w  １/m") == ["迈向", "充满", "希望", "——", "１"]
    assert parse_gold_line("   ") == []


def test_spans_and_score():
    assert spans(["迈向", "充满", "希望"]) == {(0, 2), (2, 4), (4, 6)}
    # gold 迈向|充满|希望, predicted 迈|向|充满希望: no span in common
    r = score([(["迈向", "充满", "希望"], ["迈", "向", "充满希望"])])
    assert (r["correct"], r["gold_words"], r["predicted_words"]) == (0, 3, 3)
    r = score([(["迈向", "充满", "希望"], ["迈向", "充", "满", "希望"])])
    assert r["precision"] == 0.5 and r["recall"] == pytest.approx(0.6667) and r["f1"] == pytest.approx(0.5714)
    with pytest.raises(ValueError):
        score([(["迈向"], ["迈"])])


def test_evaluate_drops_whitespace_and_blank_lines():
    lines = ["新/a  世纪/n", "", "讲话/n"]
    r = evaluate(lines, lambda text: list(text[:1]) + [" "] + [text[1:]])
    assert (r["sentences"], r["gold_words"], r["predicted_words"], r["correct"]) == (2, 3, 4, 2)

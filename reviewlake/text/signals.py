"""Soft quality signals of a review: scores and flags that mark a review in silver without dropping it.

* **Scores** (:data:`SCORES`), each a double in [0, 1], measured on the text as the configured
  clean rules leave it just before the first run-collapsing rule (:data:`COLLAPSING`): decoded,
  NFKC-normalised, without HTML, simplified, PII masked, emoji and emotes handled, but with its runs
  of punctuation, repeated phrases and characters and whitespace as the buyer typed them (the
  collapse rules would hide exactly what the scores measure). All three count the non-space
  characters (ASCII whitespace left out, as ``too_little_cjk`` does):

  - ``cjk_share``: CJK characters / characters (``too_little_cjk``'s measure);
  - ``special_char_share``: punctuation marks and symbols (Unicode P*, S*) / characters. Unlike
    Data-Juicer's ``special_char_ratio`` it leaves digits and whitespace out: prices and dates are
    review content;
  - ``char_rep_ratio``: Data-Juicer's character repetition ratio (``character_repetition_filter``,
    after BigScience) over the character ``signals.rep_ngram``-grams: the occurrences of the
    k most frequent n-grams over all occurrences, k = min(floor(sqrt(distinct n-grams)), n-grams
    that occur more than once); 0 for a text shorter than n.

* **Flags** (:data:`FLAGS`, :data:`FLAG_RULES`): the names of the signals over their configured
  thresholds (``signals``), sorted, an empty list when none; ``template`` is a cluster's: its
  members (exact and near copies) were posted under at least ``signals.template_min`` distinct
  products by at least as many distinct users (``cluster_products``, ``cluster_users``).

Each has a Python form and a Spark form, held equal by ``tests/unit/test_signals.py``. The Spark
forms are native column expressions (no Python worker); pyspark is imported only when one is built.
"""

from __future__ import annotations

import functools
import math
import operator
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import reduce
from typing import TYPE_CHECKING, Any

from reviewlake.core.settings import Signals
from reviewlake.text.clean_rules import F, cjk_ratio_py, cjk_ratio_spark, share_py, share_spark
from reviewlake.text.clean_text import CJK, java_regex
from reviewlake.text.junk import punct_symbol_ranges

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

SCORES = ("cjk_share", "special_char_share", "char_rep_ratio")
COUNTS = ("cluster_products", "cluster_users")
# The clean rules that shorten runs (punctuation, repeated phrases and characters, whitespace): the
# scores are measured on the text as the rules before the first of these leave it.
COLLAPSING = frozenset({"punct_runs", "repeat_phrase", "repeat_char", "whitespace"})

# flag -> the conditions (column, comparison, settings key) that must all hold; in name order
FLAG_RULES: tuple[tuple[str, tuple[tuple[str, str, str], ...]], ...] = (
    ("high_special_chars", (("special_char_share", ">", "max_special_char_share"),)),
    ("low_cjk_share", (("cjk_share", "<", "min_cjk_share"),)),
    ("repetitive", (("char_rep_ratio", ">", "max_char_rep_ratio"),)),
    ("template", (("cluster_products", ">=", "template_min"), ("cluster_users", ">=", "template_min"))),
)
FLAGS = tuple(name for name, _ in FLAG_RULES)
assert list(FLAGS) == sorted(FLAGS), "flags are declared in name order, so every row's list is sorted"
_OPS: dict[str, Callable[[Any, Any], Any]] = {"<": operator.lt, ">": operator.gt, ">=": operator.ge}


def measured_rules(rules: Sequence[str]) -> list[str]:
    """The rules of ``rules`` (``clean.rules``, in order) that run before the text is measured: those
    before the first :data:`COLLAPSING` rule (all of them when none is configured)."""
    first = next((i for i, name in enumerate(rules) if name in COLLAPSING), len(rules))
    return list(rules[:first])


# ------------------------------------------------------------------ the scores, in Python
_SPACE = java_regex(r"\s")


@functools.cache
def _special_share() -> Callable[[str], float]:
    return share_py(punct_symbol_ranges())  # built on first use: the class is read from unicodedata


def special_char_share_py(text: str) -> float:
    """Punctuation marks and symbols (Unicode P*, S*) / non-space characters."""
    return _special_share()(text)


def char_rep_ratio_py(text: str, n: int) -> float:
    """Data-Juicer's character repetition ratio of ``text`` (spaces left out) over its n-grams."""
    s = _SPACE.sub("", text)
    freqs = sorted(Counter(s[i : i + n] for i in range(len(s) - n + 1)).values(), reverse=True)
    if not freqs:
        return 0.0
    k = min(math.isqrt(len(freqs)), sum(1 for f in freqs if f > 1))
    return sum(freqs[:k]) / sum(freqs)


def scores_py(text: str, cfg: Signals) -> dict[str, float]:
    """The :data:`SCORES` of a measured text."""
    return {
        "cjk_share": cjk_ratio_py(text),
        "special_char_share": special_char_share_py(text),
        "char_rep_ratio": char_rep_ratio_py(text, cfg.rep_ngram),
    }


def flags_py(values: Mapping[str, float], cfg: Signals) -> list[str]:
    """The flags whose conditions hold for a row's ``values`` (its scores and cluster counts)."""
    return [
        name
        for name, conditions in FLAG_RULES
        if all(_OPS[op](values[column], getattr(cfg, key)) for column, op, key in conditions)
    ]


# ------------------------------------------------------------------ the same, in Spark
def with_scores(df: DataFrame, text: str, cfg: Signals) -> DataFrame:
    """``df`` with the :data:`SCORES` of its measured ``text`` column, as native expressions.

    ``char_rep_ratio``: the n-grams (every overlapping match of a lookahead), sorted; a run of equal
    ones ends at i where the next differs; the frequencies are the differences of consecutive ends.
    Each array is a column of its own, read by the next step's lambda: a lambda body is evaluated
    per element, so an expression read inside one (rather than a column) would be recomputed per
    element, quadratic; read more than once, the columns are not inlined by the optimiser."""
    # an n-gram starting at every character: after an empty match Java moves on by one UTF-16 unit,
    # so a position between the two halves of a surrogate pair (a character beyond the BMP), where
    # Java reads a lone low surrogate, is skipped
    ngram = F.lit("(?![\\x{DC00}-\\x{DFFF}])(?=([\\s\\S]{" + str(cfg.rep_ngram) + "}))")
    grams, ends, freqs = F.col("_signal_grams"), F.col("_signal_ends"), F.col("_signal_freqs")
    total = F.size(grams)
    last = F.sequence(F.lit(0), total - 1)  # positions 0..total-1 ([0, -1] when empty: unused then)
    # freqs are sorted in descending order: those over 1 come before the first 1
    repeated = F.when(F.array_position(freqs, 1) > 0, F.array_position(freqs, 1) - 1).otherwise(F.size(freqs))
    k = F.least(F.floor(F.sqrt(F.size(freqs))).cast("int"), repeated.cast("int"))
    top = F.aggregate(F.slice(freqs, 1, k), F.lit(0), lambda acc, f: acc + f)
    return (
        df.withColumn(
            "_signal_grams",
            F.array_sort(F.regexp_extract_all(F.regexp_replace(F.col(text), r"\s", ""), ngram, F.lit(1))),
        )
        .withColumn(
            "_signal_ends", F.filter(last, lambda i: F.coalesce(F.get(grams, i) != F.get(grams, i + 1), F.lit(True)))
        )
        .withColumn(
            "_signal_freqs",
            F.sort_array(
                F.transform(ends, lambda e, j: e - F.when(j > 0, F.get(ends, j - 1)).otherwise(F.lit(-1))), asc=False
            ),
        )
        .withColumns(
            {
                "cjk_share": cjk_ratio_spark(F.col(text)),
                "special_char_share": share_spark(punct_symbol_ranges(), CJK + "A-Za-z0-9\\s")(F.col(text)),
                "char_rep_ratio": F.when(total > 0, top / total).otherwise(F.lit(0.0)),
            }
        )
        .drop("_signal_grams", "_signal_ends", "_signal_freqs")
    )


def flags_column(cfg: Signals) -> Column:
    """``array<string>``: :func:`flags_py` over a row's score and count columns (empty, not null,
    when no flag holds)."""

    def holds(conditions: tuple[tuple[str, str, str], ...]) -> Column:
        return reduce(operator.and_, [_OPS[op](F.col(column), getattr(cfg, key)) for column, op, key in conditions])

    return F.array_compact(F.array(*[F.when(holds(conditions), F.lit(name)) for name, conditions in FLAG_RULES]))

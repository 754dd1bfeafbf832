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

Each has a Python form and a Spark form, held equal by ``tests/unit/test_signals.py``. The scores'
Spark form runs their Python form (:func:`scores_py`) in one Arrow pandas UDF; the flags' is a native
column expression. pyspark and pandas are imported only when a Spark form is built.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from functools import reduce
from typing import TYPE_CHECKING, Any

from reviewlake.core.settings import Signals
from reviewlake.text.clean_rules import F, share_py
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
# Java's \s (ASCII whitespace), as Python matches it: the spaces the scores leave out.
_SPACE = java_regex(r"\s")
_CJK_RUNS = java_regex("[" + CJK + "]+")
# Characters none of which is a punctuation mark or symbol, removed in runs before the long P/S
# class is tried on the few characters left (Python tests a class of many ranges slowly, runs fast).
_PLAIN_RUNS = java_regex("[" + CJK + "A-Za-z0-9]+")


@functools.cache
def _special_share() -> Callable[[str], float]:
    return share_py(punct_symbol_ranges())  # built on first use: the class is read from unicodedata


@functools.cache
def _special_class() -> re.Pattern:
    return java_regex("[" + punct_symbol_ranges() + "]")


def special_char_share_py(text: str) -> float:
    """Punctuation marks and symbols (Unicode P*, S*) / non-space characters."""
    return _special_share()(text)


def char_rep_ratio_py(text: str, n: int) -> float:
    """Data-Juicer's character repetition ratio of ``text`` (spaces left out) over its n-grams,
    written as its definition reads (:func:`scores_py` computes it with a shortcut)."""
    s = _SPACE.sub("", text)
    freqs = sorted(Counter(s[i : i + n] for i in range(len(s) - n + 1)).values(), reverse=True)
    if not freqs:
        return 0.0
    k = min(math.isqrt(len(freqs)), sum(1 for f in freqs if f > 1))
    return sum(freqs[:k]) / sum(freqs)


def _rep_ratio(s: str, n: int) -> float:
    grams = len(s) - n + 1
    if grams <= 0:
        return 0.0
    counts = Counter([s[i : i + n] for i in range(grams)])
    if len(counts) == grams:  # no n-gram occurs twice
        return 0.0
    freqs = sorted(counts.values(), reverse=True)
    k = min(math.isqrt(len(freqs)), sum(1 for f in freqs if f > 1))
    return sum(freqs[:k]) / grams


def scores_py(text: str, cfg: Signals) -> dict[str, float]:
    """The :data:`SCORES` of a measured text: ``clean_rules.cjk_ratio_py``, :func:`special_char_share_py`
    and :func:`char_rep_ratio_py` in one pass over the text without its spaces (equal to them,
    ``tests/unit/test_signals.py``)."""
    s = _SPACE.sub("", text)
    if not s:
        return {"cjk_share": 0.0, "special_char_share": 0.0, "char_rep_ratio": 0.0}
    not_cjk = _CJK_RUNS.sub("", s)
    special = len(_special_class().findall(_PLAIN_RUNS.sub("", not_cjk)))
    return {
        "cjk_share": (len(s) - len(not_cjk)) / len(s),
        "special_char_share": special / len(s),
        "char_rep_ratio": _rep_ratio(s, cfg.rep_ngram),
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
    """``df`` with the :data:`SCORES` of its measured ``text`` column (a null text scores 0).

    The Python form in one Arrow pandas UDF (Spark evaluates it in the Python pass of the clean
    rules' last UDF where the plan allows). Not native column expressions: those (n-grams as every
    match of a lookahead regex, sorted, frequencies from runs of equal ones in lambda passes; the
    shares as JVM regexes) added 58% to the clean stage's rules at 10x, this form 17%
    (docs/pipeline.md, "Soft signals").
    """
    scored = _scores_udf(cfg)(F.col(text))
    return (
        df.withColumn("_signal_scores", scored)
        .withColumns({name: F.col(f"_signal_scores.{name}") for name in SCORES})
        .drop("_signal_scores")
    )


def _scores_udf(cfg: Signals) -> Callable[[Column], Column]:
    import pandas as pd

    def _udf(s):
        zero = dict.fromkeys(SCORES, 0.0)
        return pd.DataFrame([scores_py(v, cfg) if isinstance(v, str) else zero for v in s], columns=list(SCORES))

    _udf.__annotations__ = {"s": pd.Series, "return": pd.DataFrame}  # a Series -> struct UDF
    return F.pandas_udf(", ".join(f"{name} double" for name in SCORES))(_udf)


def flags_column(cfg: Signals) -> Column:
    """``array<string>``: :func:`flags_py` over a row's score and count columns (empty, not null,
    when no flag holds)."""

    def holds(conditions: tuple[tuple[str, str, str], ...]) -> Column:
        return reduce(operator.and_, [_OPS[op](F.col(column), getattr(cfg, key)) for column, op, key in conditions])

    return F.array_compact(F.array(*[F.when(holds(conditions), F.lit(name)) for name, conditions in FLAG_RULES]))

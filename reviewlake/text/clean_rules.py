"""The cleaning rules: each states only its decision, as a Spark column expression or an Arrow
pandas UDF (never a row-at-a-time Python UDF). :func:`registry` builds them from the ``clean``
config section; :mod:`reviewlake.lake.clean` runs, counts and records them.

Map rules rewrite the text; filter rules say whether a row is kept. Placeholders that masking
leaves behind (``[URL]``, ``[EMAIL]``, ``[PHONE]``, ``[ID]``) are ASCII words in square brackets,
so no later rule (HTML, emote, repetition) rewrites them and cleaning stays idempotent.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T

from reviewlake.text.clean_text import (  # noqa: F401  (the pure-Python side, re-exported)
    CJK, EMAIL, EMOJI, EMOTE, ID_NUMBER, PHONE, URL, any_of, decode_hz, nfkc, strip_html, to_simplified,
)


@dataclass(frozen=True)
class MapRule:
    name: str
    fn: Callable[[Column], Column]


@dataclass(frozen=True)
class FilterRule:
    name: str
    keep: Callable[[Column], Column]


Rule = MapRule | FilterRule


def _series_udf(fn: Callable[[str], str]) -> Callable[[Column], Column]:
    """Wrap a str -> str function as a vectorised pandas UDF over a string column."""

    @F.pandas_udf(T.StringType())
    def _udf(s: pd.Series) -> pd.Series:
        return s.map(lambda v: fn(v) if isinstance(v, str) else v)

    return _udf


# ------------------------------------------------------------------ Spark-expression rules
def _emote(mode: str) -> Callable[[Column], Column]:
    """``unwrap``: [哈哈] -> 哈哈 (keeps the sentiment word); ``drop``: removed."""
    return lambda c: F.regexp_replace(c, EMOTE, " " if mode == "drop" else " $1 ")


def _cap_char_runs(max_run: int) -> Callable[[Column], Column]:
    # A character repeated more than max_run times (好好好好好 -> 好好好).
    return lambda c: F.regexp_replace(c, r"(.)\1{" + str(max_run) + ",}", "$1" * max_run)


def _cap_phrase_runs(max_repeats: int) -> Callable[[Column], Column]:
    # A 2-10 character phrase repeated more than max_repeats times in a row.
    return lambda c: F.regexp_replace(c, r"(.{2,10}?)\1{" + str(max_repeats) + ",}", "$1" * max_repeats)


def _punct_runs(c: Column) -> Column:
    # A run of one repeated punctuation mark or symbol collapses to one (!!! -> !, 。。。 -> 。).
    return F.regexp_replace(c, r"([\p{P}\p{S}])\1+", "$1")


def _whitespace(c: Column) -> Column:
    return F.trim(F.regexp_replace(c, r"[\s\x{3000}\x{00A0}\x{200B}]+", " "))


def _strip_patterns(patterns: list[str]) -> Callable[[Column], Column]:
    joined = any_of(patterns)
    return lambda c: F.regexp_replace(c, joined, " ")


def _cjk_ratio(c: Column) -> Column:
    visible = F.length(F.regexp_replace(c, r"\s", ""))
    cjk = F.length(F.regexp_replace(c, "[^" + CJK + "]", ""))
    return F.when(visible > 0, cjk / visible).otherwise(F.lit(0.0))


def _matches_any(patterns: list[str]) -> Callable[[Column], Column]:
    joined = any_of(patterns)
    return lambda c: ~c.rlike(joined)


def registry(options: Mapping) -> dict[str, Rule]:
    """Every known rule, configured from the ``clean`` config section."""
    min_chars, max_chars = int(options["min_chars"]), int(options["max_chars"])
    min_cjk = float(options.get("min_cjk_ratio", 0.0))
    rules: list[Rule] = [
        MapRule("hz_decode", _series_udf(decode_hz)),
        MapRule("nfkc", _series_udf(nfkc)),
        MapRule("html", _series_udf(strip_html)),
        MapRule("t2s", _series_udf(lambda s: to_simplified(s, str(options.get("opencc_config", "t2s"))))),
        MapRule("email", lambda c: F.regexp_replace(c, EMAIL, " [EMAIL] ")),
        MapRule("url", lambda c: F.regexp_replace(c, URL, " [URL] ")),
        MapRule("id_number", lambda c: F.regexp_replace(c, ID_NUMBER, " [ID] ")),
        MapRule("phone", lambda c: F.regexp_replace(c, PHONE, " [PHONE] ")),
        MapRule("emoji", lambda c: F.regexp_replace(c, EMOJI, " ")),
        MapRule("emote", _emote(str(options.get("emotes", "unwrap")))),
        MapRule("boilerplate_prefix", _strip_patterns(list(options.get("strip_patterns") or []))),
        MapRule("punct_runs", _punct_runs),
        MapRule("repeat_phrase", _cap_phrase_runs(int(options.get("max_phrase_repeats", 2)))),
        MapRule("repeat_char", _cap_char_runs(int(options.get("max_char_run", 3)))),
        MapRule("whitespace", _whitespace),
        FilterRule("empty", lambda c: F.length(c) > 0),
        FilterRule("too_short", lambda c: F.length(c) >= min_chars),
        FilterRule("too_long", lambda c: F.length(c) <= max_chars),
        FilterRule("too_little_cjk", lambda c: _cjk_ratio(c) >= min_cjk),
        FilterRule("boilerplate", _matches_any(list(options.get("boilerplate_patterns") or []))),
    ]
    return {r.name: r for r in rules}

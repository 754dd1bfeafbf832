"""The cleaning rules: each states only its decision, as a Spark column expression or an Arrow
pandas UDF (never a row-at-a-time Python UDF). :func:`registry` builds them from the ``clean``
config section; :mod:`pipelines.clean` runs, counts and records them.

Map rules rewrite the text; filter rules say whether a row is kept. Placeholders that masking
leaves behind (``[URL]``, ``[EMAIL]``, ``[PHONE]``, ``[ID]``) are ASCII words in square brackets,
so no later rule (HTML, emote, repetition) rewrites them and cleaning stays idempotent.
"""
from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Mapping

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql import types as T


@dataclass(frozen=True)
class MapRule:
    name: str
    fn: Callable[[Column], Column]


@dataclass(frozen=True)
class FilterRule:
    name: str
    keep: Callable[[Column], Column]


Rule = MapRule | FilterRule

CJK = r"\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{F900}-\x{FAFF}"

# ------------------------------------------------------------------ pure-Python text functions
# Used by the pandas UDFs below (one vectorised call per Arrow batch).
_HZ_SPAN = re.compile(r"~\{([\x21-\x7e]*?)~\}")


def decode_hz(text: str) -> str:
    """Decode HZ-encoded GB2312 spans (``~{...~}``, RFC 1843), seen in the bundled hotel reviews."""
    if "~{" not in text:
        return text

    def _one(m: re.Match) -> str:
        try:
            return m.group(0).encode("ascii").decode("hz")
        except UnicodeError:
            return m.group(0)

    return _HZ_SPAN.sub(_one, text)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>|<!--.*?-->", re.S)


def strip_html(text: str) -> str:
    """Drop HTML tags and comments, unescape entities (``&amp;``, ``&#x4E2D;``), NFKC the result
    (an entity can stand for a full-width character). Block tags become spaces."""
    if "<" not in text and "&" not in text:
        return text
    out = _TAG.sub(" ", text)
    for _ in range(3):  # double-escaped input (&amp;lt;) unescapes in rounds; stop at a fixpoint
        unescaped = html.unescape(out)
        if unescaped == out:
            break
        out = _TAG.sub(" ", unescaped)
    return nfkc(out)


_opencc = {}


def to_simplified(text: str, config: str = "t2s") -> str:
    """Traditional to simplified Chinese with OpenCC (the converter is built once per worker)."""
    conv = _opencc.get(config)
    if conv is None:
        import opencc

        conv = _opencc[config] = opencc.OpenCC(config)
    return conv.convert(text)


def _series_udf(fn: Callable[[str], str]) -> Callable[[Column], Column]:
    """Wrap a str -> str function as a vectorised pandas UDF over a string column."""

    @F.pandas_udf(T.StringType())
    def _udf(s: pd.Series) -> pd.Series:
        return s.map(lambda v: fn(v) if isinstance(v, str) else v)

    return _udf


# ------------------------------------------------------------------ Spark-expression rules
# (JDK 17's \b counts CJK letters as word characters, so ASCII look-arounds mark the edges.)
URL = r"(?i)(?<![A-Za-z0-9])(?:https?://|ftp://|www\.)[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]+|(?<![A-Za-z0-9.\-])[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.(?:com|cn|net|org|edu|gov|info|io|cc|tv)(?![A-Za-z0-9])(?:/[A-Za-z0-9\-._~/?#=&%]*)?"
EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
# PRC resident ID: 6-digit region, birth date 18xx-20xx, 3-digit sequence, check digit/X (18 chars);
# the old 15-digit form. Not preceded/followed by a digit.
ID_NUMBER = r"(?<!\d)(?:[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]|[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3})(?![\dXx])"
# Mobile (optionally +86 / 86, spaced or dashed 3-4-4) and landline (0xx[x]-xxxxxxx[x]).
PHONE = r"(?<!\d)(?:(?:\+?86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d{4}){2}|0\d{2,3}[\s\-]?\d{7,8}|400[\s\-]?\d{3}[\s\-]?\d{4})(?!\d)"
EMOJI = (
    r"[\x{1F000}-\x{1FAFF}\x{2600}-\x{27BF}\x{2B00}-\x{2BFF}\x{2300}-\x{23FF}\x{2190}-\x{21FF}"
    r"\x{25A0}-\x{25FF}\x{2900}-\x{297F}\x{3030}\x{303D}\x{3297}\x{3299}\x{00A9}\x{00AE}\x{2122}"
    r"\x{203C}\x{2049}\x{2139}\x{2194}-\x{2199}\x{24C2}\x{FE0E}\x{FE0F}\x{200D}\x{20E3}"
    r"\x{E0020}-\x{E007F}]+"
)
# Bracketed platform emotes: [哈哈], 【赞】 after NFKC is still 【】, so both bracket kinds.
EMOTE = r"[\[【]([" + CJK + r"]{1,8})[\]】]"


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
    joined = "|".join(f"(?:{p})" for p in patterns) if patterns else "(?!)"
    return lambda c: F.regexp_replace(c, joined, " ")


def _cjk_ratio(c: Column) -> Column:
    visible = F.length(F.regexp_replace(c, r"\s", ""))
    cjk = F.length(F.regexp_replace(c, "[^" + CJK + "]", ""))
    return F.when(visible > 0, cjk / visible).otherwise(F.lit(0.0))


def _matches_any(patterns: list[str]) -> Callable[[Column], Column]:
    joined = "|".join(f"(?:{p})" for p in patterns) if patterns else "(?!)"
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

"""The cleaning rules, each declared once in :data:`RULES`: its name, its kind (a ``map`` rule
rewrites the text, a ``filter`` says whether a row is kept), the keys of the ``clean`` config
section it reads (their defaults live in one place, ``reviewlake/conf/reviewlake.yaml``), its
Spark form and its Python form. Everything else is derived from these declarations:

* :func:`spark_rules`: the configured rules as Spark column expressions or Arrow pandas UDFs (never
  a row-at-a-time Python UDF); :mod:`reviewlake.lake.clean` runs, counts and records them;
* :func:`python_cleaner`: the configured map rules on one string (no Spark), which serving
  (:mod:`reviewlake.text.serving`) uses so a review is cleaned the way silver cleaned the training
  data;
* :func:`python_forms`: every configured rule on one string, which the benchmark's single-process
  pandas run (``bench/speed/ingest_clean.py``) maps over a Series.

The two forms of a rule give the same result on every input: ``tests/unit/test_clean_rules.py``
holds them equal for every declared rule. Where the Spark form is a pandas UDF it runs the Python
form itself; elsewhere both are written from the same Java regex (:func:`java_regex` translates it).

pyspark (and pandas) are imported only when a Spark form is built, never when this module is
imported: serving imports it where pyspark is absent.

Placeholders that masking leaves behind (``[URL]``, ``[EMAIL]``, ``[PHONE]``, ``[ID]``) are ASCII
words in square brackets, so no later rule (HTML, emote, repetition) rewrites them and cleaning
stays idempotent.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from reviewlake.core.settings import Clean
from reviewlake.errors import ConfigError
from reviewlake.text.clean_text import (
    CJK,
    EMAIL,
    EMOJI,
    EMOTE,
    ID_NUMBER,
    JAVA_DOT,
    PHONE,
    URL,
    any_of,
    collapse_punct_runs,
    decode_hz,
    java_regex,
    nfkc,
    strip_html,
    to_simplified,
)
from reviewlake.text.junk import (
    case_insensitive,
    letter_class,
    not_chinese_keep,
    python_filter,
    read_patterns,
    required_chars,
    symbols_only_keep,
    visible_class,
    whole_text_of,
)

if TYPE_CHECKING:
    from pyspark.sql import Column


class _Lazy:
    """A module imported on first attribute access, so ``F.regexp_replace`` in a Spark form imports
    pyspark only when that form is built."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


F = _Lazy("pyspark.sql.functions")

SparkForm = Callable[["Column"], "Column"]  # map: the text column -> text; filter: -> boolean (kept)
PythonForm = Callable[[str], Any]  # map: str -> str; filter: str -> bool (kept)


@dataclass(frozen=True)
class CleanRule:
    """One cleaning rule, declared once.

    ``python`` and ``spark`` take the ``clean`` settings (of which the rule reads only its
    ``keys``) and return its Python form (``str -> str`` for a map rule, ``str -> bool``
    kept for a filter) and its Spark form (``Column -> Column``, a boolean Column for a filter).
    Both forms see a non-null string: :func:`reviewlake.lake.clean.apply_rules` and
    :func:`python_cleaner` turn a null text into ``""`` first. ``keys`` name the settings it reads
    (a test holds them to the schema).
    """

    name: str
    kind: Literal["map", "filter"]
    python: Callable[[Clean], PythonForm]
    spark: Callable[[Clean], SparkForm]
    keys: tuple[str, ...] = ()

    @property
    def config_keys(self) -> tuple[str, ...]:
        return tuple(f"clean.{k}" for k in self.keys)

    def python_form(self, clean: Clean) -> PythonForm:
        return self.python(clean)

    def spark_form(self, clean: Clean) -> SparkForm:
        return self.spark(clean)


# ------------------------------------------------------------------ how forms are made
def _series_udf(fn: Callable[[str], str]) -> SparkForm:
    """Wrap a str -> str function as a vectorised pandas UDF over a string column."""
    import pandas as pd
    from pyspark.sql import types as T

    def _udf(s):
        return s.map(lambda v: fn(v) if isinstance(v, str) else v)

    _udf.__annotations__ = {"s": pd.Series, "return": pd.Series}  # the hints that make it a Series -> Series UDF
    return F.pandas_udf(T.StringType())(_udf)


def _python_in_pandas_udf(name: str, python: Callable[[Clean], Callable[[str], str]], keys=()) -> CleanRule:
    """A map rule whose Spark form runs its Python form in an Arrow pandas UDF."""
    return CleanRule(name, "map", python, lambda o: _series_udf(python(o)), tuple(keys))


def _python_sub(pattern: str, replacement: str) -> Callable[[str], str]:
    rx = java_regex(pattern)
    return lambda s: rx.sub(replacement, s)


def _replace(name: str, pattern: str, replacement: str) -> CleanRule:
    """A map rule replacing every match of the Java regex ``pattern`` with the literal ``replacement``."""
    assert not re.search(r"[\\$]", replacement), "a literal replacement: the same string in Java and Python"
    return CleanRule(
        name,
        "map",
        python=lambda o: _python_sub(pattern, replacement),
        spark=lambda o: lambda c: F.regexp_replace(c, pattern, replacement),
    )


# ------------------------------------------------------------------ the map rules
def _t2s(o: Clean) -> Callable[[str], str]:
    config = o.opencc_config
    return lambda s: to_simplified(s, config)


def _emote(o: Clean) -> tuple[str, str]:
    """The replacement of an emote, in Java and in Python: ``unwrap``: [哈哈] -> 哈哈 (keeps the
    sentiment word); ``drop``: removed."""
    return (" ", " ") if o.emotes == "drop" else (" $1 ", r" \1 ")


def _capped_runs(name: str, unit: str, key: str) -> CleanRule:
    """A map rule: a run of ``unit`` (a regex) repeated more than ``clean.<key>`` times is cut to that
    many repeats. Written in Java with ``.``; in Python ``.`` becomes :data:`JAVA_DOT` (Java's ``.``
    excludes every line terminator, Python's only ``\\n``)."""

    def python(o: Clean) -> Callable[[str], str]:
        n = getattr(o, key)
        rx = re.compile("(" + unit.replace(".", JAVA_DOT) + ")\\1{" + str(n) + ",}")
        return lambda s: rx.sub(lambda m: m.group(1) * n, s)

    def spark(o: Clean) -> SparkForm:
        n = getattr(o, key)
        return lambda c: F.regexp_replace(c, "(" + unit + ")\\1{" + str(n) + ",}", "$1" * n)

    return CleanRule(name, "map", python, spark, (key,))


# ASCII \s (Java's default) and the full-width, no-break and zero-width spaces
WHITESPACE = r"[\s\x{3000}\x{00A0}\x{200B}]+"
_whitespace_py = java_regex(WHITESPACE)

# ------------------------------------------------------------------ the filters
_ASCII_SPACE = java_regex(r"\s")


def share_py(chars: str) -> Callable[[str], float]:
    """The share of the characters of the Java class body ``chars`` (``a-z\\x{4E00}``...) among
    the non-space characters of a text (0 when there are none), in Python."""
    others = java_regex("[^" + chars + "]")

    def share(s: str) -> float:
        visible = len(_ASCII_SPACE.sub("", s))
        return len(others.sub("", s)) / visible if visible > 0 else 0.0

    return share


def share_spark(chars: str, surely_not: str = "") -> Callable[[Column], Column]:
    """:func:`share_py` as a Spark column expression (the same regexes on the JVM). ``surely_not``:
    the body of a short class of characters none of which is in ``chars`` (a text's common
    letters), removed in runs first, so that the JVM tests ``chars`` only on the few characters left:
    Java tests a class of n ranges in O(n) a character, and ``chars`` may have hundreds."""
    others = "[^" + chars + "]"
    common = "[" + surely_not + "]+"

    def share(c: Column) -> Column:
        visible = F.length(F.regexp_replace(c, r"\s", ""))
        rest = F.regexp_replace(c, common, "") if surely_not else c
        return F.when(visible > 0, F.length(F.regexp_replace(rest, others, "")) / visible).otherwise(F.lit(0.0))

    return share


# CJK characters / non-space characters: too_little_cjk's measure, and silver's cjk_share
cjk_ratio_py, cjk_ratio_spark = share_py(CJK), share_spark(CJK)


def _at_least(measure: Callable[[str], float], bound: float) -> Callable[[str], bool]:
    return lambda s: measure(s) >= bound


def _at_most(measure: Callable[[str], float], bound: float) -> Callable[[str], bool]:
    return lambda s: measure(s) <= bound


def _no_match_py(joined: str) -> Callable[[str], bool]:
    rx = java_regex(joined)
    return lambda s: rx.search(s) is None


def _no_match(name: str, key: str, regex: Callable[[tuple[str, ...]], str]) -> CleanRule:
    """A filter dropping a text that ``regex(patterns)`` matches, the patterns read from the pattern
    file named by ``clean.<key>``."""

    def joined(o: Clean) -> str:
        return regex(read_patterns(getattr(o, key)))

    def spark(o: Clean) -> SparkForm:
        rx = joined(o)  # the file read once, where the form is built
        return lambda c: ~c.rlike(rx)

    return CleanRule(name, "filter", keys=(key,), python=lambda o: _no_match_py(joined(o)), spark=spark)


def _any_gated_py(key: str) -> Callable[[Clean], Callable[[str], bool]]:
    """A filter dropping a text that one of the patterns of ``clean.<key>`` matches anywhere (ASCII
    letters in either case), each pattern tried only on a text holding one of the characters every
    match of it contains (:func:`required_chars`): a set intersection, cheaper than the search."""

    def python(o: Clean) -> Callable[[str], bool]:
        tests = [
            (required_chars(pattern, ignore_case=True), java_regex(case_insensitive([pattern])))
            for pattern in read_patterns(getattr(o, key))
        ]

        def keep(text: str) -> bool:
            chars = set(text)
            return not any((gate is None or not gate.isdisjoint(chars)) and rx.search(text) for gate, rx in tests)

        return keep

    return python


def _keep_udf(keep: Callable[[str], bool]) -> Callable[[Column], Column]:
    """A filter's Python form as a vectorised pandas UDF (string -> kept); a null input is kept."""
    import pandas as pd
    from pyspark.sql import types as T

    one = python_filter(keep)

    def _udf(s):
        return s.map(one).astype(bool)

    _udf.__annotations__ = {"s": pd.Series, "return": pd.Series}
    return F.pandas_udf(T.BooleanType())(_udf)


def _not_chinese_python(o: Clean) -> Callable[[str], bool]:
    return not_chinese_keep(o.keep_languages, o.min_foreign_share)


def _not_chinese_spark(o: Clean) -> SparkForm:
    """The Python form in a pandas UDF of the text, beside incentive_ad's UDF of the same text: Spark
    evaluates both in one Python pass and sends the text once. The Python form's first tests cost
    Python less than the same regexes cost the JVM, where the text is decoded for each (at 10x, 0.7
    against 3.6-4.5 CPU-seconds: bench/README.md, clean_cost)."""
    return _keep_udf(_not_chinese_python(o))


# The CJK Unified Ideographs block: every one a letter (test_junk_rules), found at a text's first
# character in most reviews by a one-range class, where Java walks the letter class's hundreds of
# ranges for each character.
_UNIFIED_HAN = r"[\x{4E00}-\x{9FFF}]"


def _symbols_only_spark(o: Clean) -> SparkForm:
    letter, visible = letter_class(), visible_class()
    return lambda c: c.rlike(_UNIFIED_HAN) | c.rlike(letter) | ~c.rlike(visible)


# ------------------------------------------------------------------ the declarations
RULES: tuple[CleanRule, ...] = (
    _python_in_pandas_udf("hz_decode", lambda o: decode_hz),
    # Before NFKC, which turns enclosed ideographs and radicals (🈶 ㊗ ⼤, symbols) into letters (有 祝 大).
    CleanRule("symbols_only", "filter", python=lambda o: symbols_only_keep(), spark=_symbols_only_spark),
    _python_in_pandas_udf("nfkc", lambda o: nfkc),
    _python_in_pandas_udf("html", lambda o: strip_html),
    _python_in_pandas_udf("t2s", _t2s, keys=("opencc_config",)),
    _replace("email", EMAIL, " [EMAIL] "),
    _replace("url", URL, " [URL] "),
    _replace("id_number", ID_NUMBER, " [ID] "),
    _replace("phone", PHONE, " [PHONE] "),
    _replace("emoji", EMOJI, " "),
    CleanRule(
        "emote",
        "map",
        keys=("emotes",),
        python=lambda o: _python_sub(EMOTE, _emote(o)[1]),
        spark=lambda o: lambda c: F.regexp_replace(c, EMOTE, _emote(o)[0]),
    ),
    CleanRule(
        "boilerplate_prefix",
        "map",
        keys=("strip_patterns",),
        python=lambda o: _python_sub(any_of(o.strip_patterns), " "),
        spark=lambda o: lambda c: F.regexp_replace(c, any_of(o.strip_patterns), " "),
    ),
    # A run of one repeated punctuation mark or symbol collapses to one (!!! -> !, 。。。 -> 。).
    # Spark reads the categories from the JVM, Python from unicodedata: a symbol newer than the
    # JVM's Unicode tables is collapsed by the Python form only (tests/unit/test_clean_rules.py,
    # test_punct_runs_forms_differ_only_on_characters_the_jvm_does_not_know).
    CleanRule(
        "punct_runs",
        "map",
        python=lambda o: collapse_punct_runs,
        spark=lambda o: lambda c: F.regexp_replace(c, r"([\p{P}\p{S}])\1+", "$1"),
    ),
    # A 2-10 character phrase repeated more than max_phrase_repeats times in a row.
    _capped_runs("repeat_phrase", ".{2,10}?", "max_phrase_repeats"),
    # A character repeated more than max_char_run times (好好好好好 -> 好好好).
    _capped_runs("repeat_char", ".", "max_char_run"),
    CleanRule(
        "whitespace",
        "map",
        python=lambda o: lambda s: _whitespace_py.sub(" ", s).strip(" "),
        spark=lambda o: lambda c: F.trim(F.regexp_replace(c, WHITESPACE, " ")),
    ),
    CleanRule("empty", "filter", python=lambda o: lambda s: len(s) > 0, spark=lambda o: lambda c: F.length(c) > 0),
    CleanRule(
        "too_short",
        "filter",
        keys=("min_chars",),
        python=lambda o: _at_least(len, o.min_chars),
        spark=lambda o: lambda c: F.length(c) >= o.min_chars,
    ),
    CleanRule(
        "too_long",
        "filter",
        keys=("max_chars",),
        python=lambda o: _at_most(len, o.max_chars),
        spark=lambda o: lambda c: F.length(c) <= o.max_chars,
    ),
    CleanRule(
        "too_little_cjk",
        "filter",
        keys=("min_cjk_ratio",),
        python=lambda o: _at_least(cjk_ratio_py, o.min_cjk_ratio),
        spark=lambda o: lambda c: cjk_ratio_spark(c) >= o.min_cjk_ratio,
    ),
    CleanRule(
        "boilerplate",
        "filter",
        keys=("boilerplate_patterns",),
        python=lambda o: _no_match_py(any_of(o.boilerplate_patterns)),
        spark=lambda o: lambda c: ~c.rlike(any_of(o.boilerplate_patterns)),
    ),
    # Platform junk (reviewlake/text/junk.py): a text that is nothing but system default phrases; an
    # incentive or advertising pattern anywhere; another language.
    _no_match("system_default", "system_default_patterns", whole_text_of),
    CleanRule(
        "incentive_ad",
        "filter",
        keys=("incentive_patterns",),
        python=_any_gated_py("incentive_patterns"),
        # In Python on the JVM too: Spark's byte searches for the same gates cost the rule 3x what
        # Python's set intersections do, and its UDF rides the Python pass that not_chinese's and the
        # scores' make (bench/README.md, clean_cost).
        spark=lambda o: _keep_udf(_any_gated_py("incentive_patterns")(o)),
    ),
    CleanRule(
        "not_chinese",
        "filter",
        keys=("keep_languages", "min_foreign_share"),
        python=_not_chinese_python,
        spark=_not_chinese_spark,
    ),
)
BY_NAME: dict[str, CleanRule] = {r.name: r for r in RULES}
assert len(BY_NAME) == len(RULES), "two rules with one name"


# ------------------------------------------------------------------ what is derived from them
@dataclass(frozen=True)
class MapRule:
    """A configured map rule's Spark form: the text column -> the rewritten text."""

    name: str
    fn: SparkForm


@dataclass(frozen=True)
class FilterRule:
    """A configured filter's Spark form: the text column -> whether the row is kept."""

    name: str
    keep: SparkForm


Rule = MapRule | FilterRule


def declared(names: Sequence[str]) -> list[CleanRule]:
    """The declarations of ``names`` (``clean.rules``), in that order; an unknown name is an error."""
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ConfigError(
            f"config key clean.rules: unknown clean rules {unknown} (known: {', '.join(sorted(BY_NAME))})"
        )
    return [BY_NAME[n] for n in names]


def spark_rules(clean: Clean, names: Sequence[str] | None = None) -> list[Rule]:
    """The rules ``names`` (default: ``clean.rules``), in order, as Spark forms configured from the
    ``clean`` settings."""
    rules = declared(clean.rules if names is None else names)
    return [(MapRule if r.kind == "map" else FilterRule)(r.name, r.spark_form(clean)) for r in rules]


def python_forms(clean: Clean, names: Sequence[str] | None = None) -> list[tuple[CleanRule, PythonForm]]:
    """The rules ``names`` (default: ``clean.rules``), in order, with their Python forms configured
    from the ``clean`` settings."""
    return [(r, r.python_form(clean)) for r in declared(clean.rules if names is None else names)]


def python_cleaner(clean: Clean, names: Sequence[str] | None = None) -> Callable[[str | None], str]:
    """str -> cleaned str: the map rules among ``names`` (default: ``clean.rules``), in order,
    exactly as :func:`reviewlake.lake.clean.apply_rules` applies them to a column (a null text is
    ``""``); filters are skipped (they drop rows, they do not change text)."""
    rules = declared(clean.rules if names is None else names)
    steps = [rule.python_form(clean) for rule in rules if rule.kind == "map"]

    def cleaned(text: str | None) -> str:
        out = text or ""
        for step in steps:
            out = step(out)
        return out

    return cleaned

r"""The pure-Python side of the platform-junk filters of :mod:`reviewlake.text.clean_rules`: texts the
platform wrote rather than the buyer (system default reviews), incentive and advertising text,
reviews in another language and texts of symbols only. No Spark here.

* ``system_default`` and ``incentive_ad`` are Java regexes read from pattern files (one regex a
  line, ``#`` comments; the defaults ship in ``reviewlake/conf/``): :func:`read_patterns`. A system
  default review must make up the whole text (:func:`whole_text_of`): a buyer who writes that the
  system gave a default 好评 keeps the review.
* ``symbols_only`` and ``not_chinese`` need Unicode categories. Java's ``\p{L}`` and Python's
  ``unicodedata`` come from different Unicode versions, so the classes are written out as explicit
  code point ranges from ``unicodedata`` (:func:`letter_class` and friends), the same string for the
  JVM and for Python.
* ``not_chinese`` asks a language identifier (:func:`language_of`: ``langid``, whose model ships
  inside the package; nothing is downloaded) only about a text with at least two letters of a script
  other than Han and Latin (kana, hangul, Cyrillic...): every other text that reached it already has
  :data:`reviewlake.text.clean_text.CJK` characters (``too_little_cjk`` runs first) and is Chinese.
"""

from __future__ import annotations

import functools
import re
import re._constants as sre
import re._parser as sre_parse
import sys
import threading
import unicodedata
from collections.abc import Callable, Sequence

from reviewlake.core.config import PACKAGE_CONF
from reviewlake.core.uris import local_path, to_uri
from reviewlake.errors import ConfigError
from reviewlake.text.clean_text import CJK, java_regex

# ------------------------------------------------------------------ pattern files
_PACKAGE = "package:"


def read_patterns(value: str) -> tuple[str, ...]:
    """The Java regexes of the pattern file ``value`` (``package:NAME``: ``reviewlake/conf/NAME``; else
    a path or URI): one a line, blank lines and lines starting with ``#`` skipped."""
    try:
        if value.startswith(_PACKAGE):
            text = (PACKAGE_CONF / value[len(_PACKAGE) :]).read_text(encoding="utf-8")
        else:
            text = local_path(to_uri(value)).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"clean: cannot read the pattern file {value!r}: {exc}") from exc
    lines = (line.strip() for line in text.splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


# Punctuation, symbols and spaces that may stand around a system default phrase (after NFKC; both
# engines read the same explicit code points): ASCII punctuation, whitespace, CJK punctuation and
# brackets, general punctuation (quotes, dashes, ellipsis), the middle dots.
SEPARATOR = (
    r"[\s\x{21}-\x{2F}\x{3A}-\x{40}\x{5B}-\x{60}\x{7B}-\x{7E}\x{A0}\x{B7}\x{2010}-\x{2027}"
    r"\x{3000}-\x{3003}\x{3008}-\x{3011}\x{3014}-\x{301F}\x{30FB}\x{FE30}-\x{FE4F}\x{FF5E}-\x{FF65}]"
)


def whole_text_of(patterns: Sequence[str]) -> str:
    """A Java regex matching a text that is one or more of ``patterns`` and nothing else but
    :data:`SEPARATOR` characters (``(?![\\s\\S])`` rather than ``$``: Java's ``$`` also matches
    before a final line terminator, Python's before a final newline only)."""
    if not patterns:
        return "(?!)"
    phrases = "|".join(f"(?:{p})" for p in patterns)
    return rf"\A{SEPARATOR}*(?:(?:{phrases}){SEPARATOR}*)+(?![\s\S])"


def case_insensitive(patterns: Sequence[str]) -> str:
    """One Java regex matching any of ``patterns``, ASCII letters in either case (Java's default
    ``(?i)``; :func:`java_regex` compiles with ``re.ASCII`` for the same)."""
    if not patterns:
        return "(?!)"
    return "(?i:" + "|".join(f"(?:{p})" for p in patterns) + ")"


# ------------------------------------------------------------------ what a match must contain
def required_chars(pattern: str, ignore_case: bool = False) -> frozenset[str] | None:
    """Characters of which every match of the Java regex ``pattern`` contains at least one (ASCII
    letters in both cases with ``ignore_case``), or None where no such set is found. Read from
    Python's parse of the pattern: a literal, a small class, a group, a repeat of at least once; of
    alternatives the union of theirs; of a sequence the smallest of its members'. A text without
    any of them cannot match, so ``incentive_ad`` tries the pattern only on texts with one: a
    regex engine tries every alternative of a long alternation at every position of every text."""
    parsed = sre_parse.parse(java_regex(pattern).pattern, re.ASCII)  # the parser of re, not a public API
    found = _sequence(list(parsed), ignore_case or bool(parsed.state.flags & re.IGNORECASE))
    return frozenset(found) if found else None


_SMALL_RANGE = 64  # a class of more characters than this gates nothing worth having


def _sequence(items: list, ci: bool) -> set[str] | None:
    sets = [s for s in (_node(op, av, ci) for op, av in items) if s]
    return min(sets, key=len) if sets else None


def _node(op, av, ci: bool) -> set[str] | None:
    if op is sre.LITERAL:
        return _cased({chr(av)}, ci)
    if op is sre.SUBPATTERN:  # (group, flags added, flags removed, items)
        return _sequence(list(av[3]), (ci or bool(av[1] & re.IGNORECASE)) and not av[2] & re.IGNORECASE)
    if op is sre.BRANCH:
        branches = [_sequence(list(b), ci) for b in av[1]]
        return set().union(*branches) if all(branches) else None
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
        return _sequence(list(av[2]), ci) if av[0] >= 1 else None
    if op is sre.IN:
        return _class(av, ci)
    return None


def _class(items: list, ci: bool) -> set[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is sre.LITERAL:
            chars.add(chr(av))
        elif op is sre.RANGE and av[1] - av[0] < _SMALL_RANGE:
            chars.update(chr(c) for c in range(av[0], av[1] + 1))
        else:  # a negated class, a category (\d, \s), a large range
            return None
    return _cased(chars, ci)


def _cased(chars: set[str], ci: bool) -> set[str]:
    return chars | {c.swapcase() for c in chars if c.isascii()} if ci else chars


# ------------------------------------------------------------------ explicit Unicode classes
@functools.cache
def _category_runs() -> tuple[tuple[int, int, str], ...]:
    """``(first, last, category)`` for each run of code points of one Unicode category, from
    ``unicodedata`` (read once per process; surrogates left out)."""
    runs: list[list] = []
    for cp in range(sys.maxunicode + 1):
        cat = "Cs" if 0xD800 <= cp <= 0xDFFF else unicodedata.category(chr(cp))
        if runs and runs[-1][2] == cat:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp, cat])
    return tuple((lo, hi, cat) for lo, hi, cat in runs if cat != "Cs")


def _ranges(cats: Callable[[str], bool], minus: tuple[tuple[int, int], ...] = ()) -> str:
    """The code points of the categories for which ``cats`` holds, less the ranges ``minus``, as
    ``\\x{..}-\\x{..}`` ranges."""
    spans: list[list[int]] = []
    for lo, hi, cat in _category_runs():
        if not cats(cat):
            continue
        for a, b in _subtract(lo, hi, minus):
            if spans and spans[-1][1] == a - 1:
                spans[-1][1] = b
            else:
                spans.append([a, b])
    return "".join(rf"\x{{{a:X}}}" if a == b else rf"\x{{{a:X}}}-\x{{{b:X}}}" for a, b in spans)


def _subtract(lo: int, hi: int, minus: tuple[tuple[int, int], ...]) -> list[tuple[int, int]]:
    """``[lo, hi]`` less the sorted, disjoint ranges ``minus``, as ranges in order."""
    out = []
    for m_lo, m_hi in minus:
        if m_hi < lo or m_lo > hi:
            continue
        if m_lo > lo:
            out.append((lo, m_lo - 1))
        lo = m_hi + 1
    if lo <= hi:
        out.append((lo, hi))
    return out


# Letters of Chinese text that are not "another script": Han (the CJK ranges of too_little_cjk and
# the supplementary planes), Latin (brand names, pinyin; Latin-only text is too_little_cjk's),
# bopomofo (Taiwanese zhuyin) and the prolonged sound mark ー that Chinese text uses as a dash.
_HOME = (  # sorted, disjoint
    (0x0000, 0x036F),
    (0x1E00, 0x1EFF),
    (0x2C60, 0x2C7F),
    (0x30FC, 0x30FC),
    (0x3100, 0x312F),
    (0x31A0, 0x31BF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA720, 0xA7FF),
    (0xAB30, 0xAB6F),
    (0xF900, 0xFAFF),
    (0xFB00, 0xFB06),
    (0xFF21, 0xFF5A),
    (0x20000, 0x3FFFF),
)


@functools.cache
def letter_class() -> str:
    """A Java character class of every letter (Unicode category L*, from ``unicodedata``)."""
    return "[" + _ranges(lambda cat: cat[0] == "L") + "]"


@functools.cache
def visible_class() -> str:
    """A Java character class of every character that is not a space, separator or control (Z*, Cc, Cf)."""
    return "[^" + _ranges(lambda cat: cat in ("Zs", "Zl", "Zp", "Cc", "Cf")) + "]"


@functools.cache
def punct_symbol_ranges() -> str:
    """The body of a Java character class of every punctuation mark and symbol (Unicode categories
    P* and S*, emoji included): what silver's ``special_char_share`` counts."""
    return _ranges(lambda cat: cat[0] in "PS")


@functools.cache
def foreign_letter_class() -> str:
    """A Java character class of the letters of scripts other than Han, Latin and bopomofo."""
    return "[" + _ranges(lambda cat: cat[0] == "L", minus=_HOME) + "]"


# Characters no foreign letter is among (ASCII, Han, CJK and general punctuation, fullwidth forms):
# a text of these only cannot match two_foreign_letters, and this small class is found one to two
# orders of magnitude faster than the foreign letters' hundreds of ranges, so it is tested first.
BEYOND_PLAIN_CHINESE = (
    r"[^\x{0}-\x{7F}\x{2010}-\x{2027}\x{3000}-\x{3004}\x{3008}-\x{3011}\x{4E00}-\x{9FFF}\x{FF01}-\x{FF5A}]"
)


@functools.cache
def two_foreign_letters() -> str:
    """A Java regex matching a text with at least two :func:`foreign_letter_class` letters."""
    return foreign_letter_class() + r"[\s\S]*?" + foreign_letter_class()


def symbols_only_keep() -> Callable[[str], bool]:
    """``symbols_only`` in Python: kept when the text has a letter or nothing visible (an empty or
    blank text is the ``empty`` filter's)."""
    letter, visible = java_regex(letter_class()), java_regex(visible_class())
    return lambda s: letter.search(s) is not None or visible.search(s) is None


# ------------------------------------------------------------------ language identification
# The languages langid.py 1.1.6's model knows (tests/unit/test_junk_rules.py holds this to the model).
_LANGID_CODES = (
    "af am an ar as az be bg bn br bs ca cs cy da de dz el en eo es et eu fa fi fo fr ga gl gu he hi hr ht hu "
    "hy id is it ja jv ka kk km kn ko ku ky la lb lo lt lv mg mk ml mn mr ms mt nb ne nl nn no oc or pa pl ps "
    "pt qu ro ru rw se si sk sl sq sr sv sw ta te th tl tr ug uk ur vi vo wa xh zh zu"
)
LANGID_LANGUAGES = frozenset(_LANGID_CODES.split())
_identifier = None
_identifier_lock = threading.Lock()


def language_of(text: str) -> str:
    """The language code (ISO 639-1) langid.py gives ``text``. Its model is a string inside the
    package, loaded once per process (about 2 s) on the first call: never downloaded."""
    global _identifier
    if _identifier is None:
        with _identifier_lock:
            if _identifier is None:
                from langid.langid import LanguageIdentifier, model

                _identifier = LanguageIdentifier.from_modelstring(model, norm_probs=False)
    return str(_identifier.classify(text)[0])


_HAN = java_regex("[" + CJK + "]")


def not_chinese_keep(keep_languages: Sequence[str], min_foreign_share: float) -> Callable[[str], bool]:
    """``not_chinese`` in Python: a text with two or more letters of another script (kana, hangul,
    Cyrillic...) that make up at least ``min_foreign_share`` of its Han and other-script letters is
    dropped unless the language identifier finds one of ``keep_languages``; every other text is kept
    without asking the model."""
    unknown = sorted(set(keep_languages) - LANGID_LANGUAGES)
    if unknown:
        raise ConfigError(f"config key clean.keep_languages: unknown language codes {unknown}")
    beyond, gate = java_regex(BEYOND_PLAIN_CHINESE), java_regex(two_foreign_letters())
    foreign, keep = java_regex(foreign_letter_class()), frozenset(keep_languages)

    def keep_text(s: str) -> bool:
        if beyond.search(s) is None or gate.search(s) is None:
            return True
        n_foreign = len(foreign.findall(s))
        if n_foreign < min_foreign_share * (n_foreign + len(_HAN.findall(s))):
            return True
        return language_of(s) in keep

    return keep_text


def python_filter(keep: Callable[[str], bool]) -> Callable[[str], bool]:
    """``keep`` as it runs on a batch: a null (a text the Spark form did not send) is kept."""
    return lambda v: keep(v) if isinstance(v, str) else True

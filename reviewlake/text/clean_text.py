r"""The pure-Python side of the cleaning rules (no Spark): the text functions that the pandas UDF
rules run and that serving runs on one string, the Java regular expressions the other rules use,
and :func:`java_regex`, which turns such a regex into Python. The rules themselves (each with its
Spark and Python form, declared once) are in :mod:`reviewlake.text.clean_rules`.

Java and Python regexes differ; :func:`java_regex` translates the subset the rules use:
``\x{h..h}`` escapes, and ASCII ``\s``/``\d``/``(?i)`` (re.ASCII gives Java's defaults). ``.``
(:data:`JAVA_DOT`) and ``\p{P}``/``\p{S}`` (:func:`collapse_punct_runs`) are written out where the
rules use them.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence

CJK = r"\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{F900}-\x{FAFF}"

# ------------------------------------------------------------------ pure-Python text functions
# Run by the pandas UDFs of reviewlake.text.clean_rules (one vectorised call per Arrow batch).
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


def to_simplified(text: str, config: str) -> str:
    """Traditional to simplified Chinese with the OpenCC conversion ``config`` (``clean.opencc_config``;
    the converter is built once per worker)."""
    conv = _opencc.get(config)
    if conv is None:
        import opencc

        conv = _opencc[config] = opencc.OpenCC(config)
    return conv.convert(text)


# (JDK 17's \b counts CJK letters as word characters, so ASCII look-arounds mark the edges.)
URL = (
    r"(?i)(?<![A-Za-z0-9])(?:https?://|ftp://|www\.)[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]+"
    r"|(?<![A-Za-z0-9.\-])[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.(?:com|cn|net|org|edu|gov|info|io|cc|tv)"
    r"(?![A-Za-z0-9])(?:/[A-Za-z0-9\-._~/?#=&%]*)?"
)
EMAIL = r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"
# PRC resident ID: 6-digit region, birth date 18xx-20xx, 3-digit sequence, check digit/X (18 chars);
# the old 15-digit form. Not preceded/followed by a digit.
ID_NUMBER = (
    r"(?<!\d)(?:[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"|[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3})(?![\dXx])"
)
# Mobile (optionally +86 / 86, spaced or dashed 3-4-4) and landline (0xx[x]-xxxxxxx[x]).
PHONE = (
    r"(?<!\d)(?:(?:\+?86[\s\-]?)?1[3-9]\d(?:[\s\-]?\d{4}){2}|0\d{2,3}[\s\-]?\d{7,8}|400[\s\-]?\d{3}[\s\-]?\d{4})(?!\d)"
)
EMOJI = (
    r"[\x{1F000}-\x{1FAFF}\x{2600}-\x{27BF}\x{2B00}-\x{2BFF}\x{2300}-\x{23FF}\x{2190}-\x{21FF}"
    r"\x{25A0}-\x{25FF}\x{2900}-\x{297F}\x{3030}\x{303D}\x{3297}\x{3299}\x{00A9}\x{00AE}\x{2122}"
    r"\x{203C}\x{2049}\x{2139}\x{2194}-\x{2199}\x{24C2}\x{FE0E}\x{FE0F}\x{200D}\x{20E3}"
    r"\x{E0020}-\x{E007F}]+"
)
# Bracketed platform emotes: [哈哈], 【赞】 after NFKC is still 【】, so both bracket kinds.
EMOTE = r"[\[【]([" + CJK + r"]{1,8})[\]】]"


# ------------------------------------------------------------------ Java regexes in Python
_HEX = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}")


def java_regex(pattern: str) -> re.Pattern:
    """A Python regex that matches what the Java ``pattern`` matches (for the subset above)."""
    return re.compile(_HEX.sub(lambda m: f"\\U{int(m.group(1), 16):08X}", pattern), re.ASCII)


# Java's `.` does not match line terminators; Python's only excludes \n.
JAVA_DOT = "[^\n\r\u0085\u2028\u2029]"


def _is_punct_or_symbol(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS"


def collapse_punct_runs(text: str) -> str:
    """``([\\p{P}\\p{S}])\1+`` -> ``$1``: a run of one repeated punctuation mark or symbol becomes one."""
    out: list[str] = []
    for ch in text:
        if out and ch == out[-1] and _is_punct_or_symbol(ch):
            continue
        out.append(ch)
    return "".join(out)


def any_of(patterns: Sequence[str]) -> str:
    """One regex matching any of ``patterns`` (one that matches nothing when there are none)."""
    return "|".join(f"(?:{p})" for p in patterns) if patterns else "(?!)"

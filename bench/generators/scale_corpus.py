"""Make an N-times larger landing folder from the bundled corpus, deterministically.

Two generators, both writing ``<out>/copy_<k>/<name>`` (file names keep their label: ``pos.txt``,
``neg.txt``):

* :func:`scale` (default): copy k holds every line of the source in an order shuffled by
  ``seed + k``. Every record of every copy is a distinct bronze record (other file, other offset);
  the texts repeat, as a growing landing folder of real dumps does.
* :func:`scale_near` (``--near``): a corpus of N times as many *distinct* documents with planted
  near-copies and their truth, for near-duplicate benchmarks. Copy 0 is the source unchanged. In
  every further copy each line is, with probability ``near_fraction`` (default 5%), a planted
  near-copy of an earlier document (see :data:`KINDS`), and otherwise a new document recombined
  from clauses of random reviews of the same file (same label). The planted pairs are written to
  ``<out>/near_truth.jsonl`` and counts to ``<out>/manifest.json``.

    python -m bench.generators.scale_corpus --factor 10 --out bench/data/x10
    python -m bench.generators.scale_corpus --near --factor 10 --out bench/data/near_x10
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import hashlib
import json
import random
import re
import shutil
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.record import ROOT


def scale(source: Path, out: Path, factor: int, seed: int = 20261127) -> int:
    """Write ``factor`` shuffled copies of the ``*.txt`` files of ``source``; returns lines written."""
    if out.exists():
        shutil.rmtree(out)
    written = 0
    for path in sorted(source.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for k in range(factor):
            order = lines[:]
            random.Random(seed + k).shuffle(order)
            target = out / f"copy_{k:04d}" / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(order) + "\n", encoding="utf-8")
            written += len(order)
    return written


# --- distinct documents with planted near-copies -------------------------------------------

#: Perturbations of a planted near-copy. The first three change nothing the dedupe key keeps
#: (it drops punctuation, symbols incl. emoji, and ASCII whitespace): after keying they are exact
#: duplicates, caught by the exact step. The others change the key a little.
KEY_INVISIBLE = ("punctuation", "emoji", "whitespace")
KINDS = KEY_INVISIBLE + ("char_substitute", "char_insert", "char_delete", "traditional", "phrase_repeat", "mixed")
TRUTH_FILE = "near_truth.jsonl"
MANIFEST_FILE = "manifest.json"
PROVENANCE_FILE = "provenance.jsonl"

# A small fixed simplified -> traditional mapping (common characters of reviews); enough to
# plant "some characters in traditional script" without OpenCC.
T2 = {
    s: t
    for s, t in zip(
        "这个们说时来对会过还书买卖价质东车门间问题气电话发现觉样务员态欢乐后实经给让没么边张长开关动业点热网货运宾馆层饭级环让读写赶紧亲种类调虽离"
        "厅厕净脏简单听见贵钱优惠满图纸页装帧订单评论师机场内历无应该",
        "這個們說時來對會過還書買賣價質東車門間問題氣電話發現覺樣務員態歡樂後實經給讓沒麼邊張長開關動業點熱網貨運賓館層飯級環讓讀寫趕緊親種類調雖離"
        "廳廁淨髒簡單聽見貴錢優惠滿圖紙頁裝幀訂單評論師機場內歷無應該",
        strict=True,
    )
    if s != t
}
PUNCT = "，。！？、；：…~"
EMOJI = "😀😂👍😊😭🙂👏🔥💯😡"  # single code points, category So
_JAVA_SPACE = " \t\n\x0b\x0c\r"  # Java's \s (ASCII) in dedupe.dedupe_key
_CLAUSE_SPLIT = re.compile(r"[，。！？；：、,.!?;:~～…\s]+")
_SEPARATORS = ("，", "，", "，", "。", "！", "、", " ")


def text_key(text: str) -> str:
    """Python twin of :func:`reviewlake.lake.dedupe.dedupe_key`: without Unicode punctuation (P*),
    symbols (S*) and ASCII whitespace, lower-cased."""
    return "".join(c for c in text if c not in _JAVA_SPACE and unicodedata.category(c)[0] not in "PS").lower()


def _is_cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


def line_id(copy: int, name: str, line_no: int) -> str:
    """Id of a line of the scaled corpus: ``copy_<k>/<file>:<1-based line number>``."""
    return f"copy_{copy:04d}/{name}:{line_no}"


def _cjk_positions(text: str) -> list[int]:
    return [i for i, c in enumerate(text) if _is_cjk(c)]


def _punctuation(text: str, rng: random.Random, cjk_pool: str) -> str:
    chars = [rng.choice(PUNCT) if unicodedata.category(c)[0] == "P" and rng.random() < 0.5 else c for c in text]
    out = "".join(chars) + rng.choice(("！！", "。。。", "~", "？", ""))
    return out if out != text else text + "！"


def _emoji(text: str, rng: random.Random, cjk_pool: str) -> str:
    i = rng.randint(0, len(text))
    return text[:i] + rng.choice(EMOJI) + text[i:]


def _whitespace(text: str, rng: random.Random, cjk_pool: str) -> str:
    out = text
    for _ in range(rng.randint(1, 3)):
        i = rng.randint(0, len(out))
        out = out[:i] + " " + out[i:]
    return out


def _char_substitute(text: str, rng: random.Random, cjk_pool: str) -> str | None:
    cjk = _cjk_positions(text)
    if not cjk:
        return None
    i = rng.choice(cjk)
    c = rng.choice(cjk_pool)
    while c == text[i]:
        c = rng.choice(cjk_pool)
    return text[:i] + c + text[i + 1 :]


def _char_insert(text: str, rng: random.Random, cjk_pool: str) -> str:
    i = rng.randint(0, len(text))
    return text[:i] + rng.choice(cjk_pool) + text[i:]


def _char_delete(text: str, rng: random.Random, cjk_pool: str) -> str | None:
    cjk = _cjk_positions(text)
    if len(cjk) < 2:
        return None
    i = rng.choice(cjk)
    return text[:i] + text[i + 1 :]


def _traditional(text: str, rng: random.Random, cjk_pool: str) -> str | None:
    mappable = [i for i, c in enumerate(text) if c in T2]
    if not mappable:
        return None
    chosen = set(rng.sample(mappable, min(len(mappable), rng.randint(1, 3))))
    return "".join(T2[c] if i in chosen else c for i, c in enumerate(text))


def _phrase_repeat(text: str, rng: random.Random, cjk_pool: str) -> str | None:
    cjk = _cjk_positions(text)
    if len(cjk) < 4:
        return None
    n = rng.randint(2, min(6, len(cjk) // 2))
    start = rng.choice(cjk[: len(cjk) - n + 1])
    phrase = text[start : start + n]
    return text[: start + n] + phrase * rng.randint(1, 2) + text[start + n :]


def _mixed(text: str, rng: random.Random, cjk_pool: str) -> str | None:
    """What a re-post often looks like: one changed character, punctuation, an emoji."""
    out = _char_substitute(text, rng, cjk_pool)
    if out is None:
        return None
    return _emoji(_punctuation(out, rng, cjk_pool), rng, cjk_pool)


_PERTURBATIONS = {
    "punctuation": _punctuation,
    "emoji": _emoji,
    "whitespace": _whitespace,
    "char_substitute": _char_substitute,
    "char_insert": _char_insert,
    "char_delete": _char_delete,
    "traditional": _traditional,
    "phrase_repeat": _phrase_repeat,
    "mixed": _mixed,
}


def perturb(text: str, kind: str, rng: random.Random, cjk_pool: str) -> str | None:
    """A near-copy of ``text`` by ``kind`` (see :data:`KINDS`); None where the kind does not apply."""
    if kind not in _PERTURBATIONS:
        raise ValueError(f"unknown perturbation {kind!r}")
    return _PERTURBATIONS[kind](text, rng, cjk_pool)


def _digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()


class _ClausePool:
    """Distinct clauses (by key, at least 2 key characters) of one file, sorted by key length, so
    that a clause no longer than a bound is one uniform index into a prefix."""

    def __init__(self, lines: list[str], name: str):
        first: dict[str, tuple[str, str]] = {}
        for n, line in enumerate(lines, start=1):
            for clause in _CLAUSE_SPLIT.split(line):
                key = text_key(clause)
                if len(key) >= 2 and key not in first:
                    first[key] = (clause, line_id(0, name, n))
        items = sorted(first.items(), key=lambda kv: (len(kv[0]), kv[0]))
        self.keys = [k for k, _ in items]
        self.texts = [v[0] for _, v in items]
        self.origin = [v[1] for _, v in items]
        self.lengths = [len(k) for k in self.keys]

    def draw(self, rng: random.Random, max_len: int) -> int:
        end = bisect.bisect_right(self.lengths, max_len)
        return rng.randrange(max(end, 1))


def _recombine(rng: random.Random, pool: _ClausePool, target: int) -> tuple[str, str, list[int]]:
    """(text, key, clause indices) of a new document of about ``target`` key characters from at
    least two distinct clauses, none longer than 60% of the target: so it is no near-copy of a
    review it borrows from (its Jaccard with any one source stays well below 0.8)."""
    target = max(target, 4)
    max_len = max(2, int(0.6 * target))
    chosen: list[int] = []
    total = 0
    while total < target or len(chosen) < 2:
        i = pool.draw(rng, max_len)
        if i in chosen:
            continue
        chosen.append(i)
        total += pool.lengths[i]
    parts = [pool.texts[chosen[0]]]
    for i in chosen[1:]:
        parts.append(rng.choice(_SEPARATORS))
        parts.append(pool.texts[i])
    parts.append(rng.choice(("。", "！", "", "~")))
    return "".join(parts), "".join(pool.keys[i] for i in chosen), chosen


@dataclass
class _Source:
    """One ``*.txt`` file of the source: its lines and their dedupe keys, its clause pool, the
    lines long enough to be a near-copy's source, and the key lengths new documents aim at."""

    name: str
    lines: list[str]
    keys: list[str]
    pool: _ClausePool
    originals: list[int]
    target_lengths: list[int]


class _NearCopies:
    """Writes copies 1.. of :func:`scale_near`'s corpus, one file at a time, with the planted
    pairs' truth (and provenance) lines, and counts what it planted."""

    def __init__(self, out: Path, params: dict, seen: set[bytes], cjk_pool: str, truth, prov):
        self.out, self.params, self.seen, self.cjk_pool = out, params, seen, cjk_pool
        self.truth, self.prov = truth, prov
        self.kinds: Counter = Counter()
        self.key_equal = self.key_jaccard_ge_0_8 = 0

    def write(self, src: _Source, k: int) -> dict:
        """Copy ``k`` of ``src``: its file written, its entry for the manifest returned."""
        rng = random.Random(f"{self.params['seed']}:{src.name}:{k}")
        planted = [rng.random() < self.params["near_fraction"] for _ in src.lines]
        texts: list[str | None] = [None] * len(src.lines)
        recombined = self._recombined(rng, src, k, planted, texts)
        for n in (n for n, p in enumerate(planted) if p):
            texts[n] = self._plant(rng, src, k, n, texts, recombined)
        target = self.out / line_id(k, src.name, 0).rsplit(":", 1)[0]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(texts) + "\n", encoding="utf-8")
        n_planted = sum(planted)
        return {
            "file": f"copy_{k:04d}/{src.name}",
            "lines": len(src.lines),
            "recombined": len(src.lines) - n_planted,
            "planted": n_planted,
        }

    def _recombined(self, rng: random.Random, src: _Source, k: int, planted: list[bool], texts: list) -> list[int]:
        """Fill the lines not planted with new documents whose keys no other line has (100 tries);
        returns the lines whose key is long enough to be a near-copy's source."""
        recombined = []
        for n, is_planted in enumerate(planted):
            if is_planted:
                continue
            for _ in range(100):
                text, key, chosen = _recombine(rng, src.pool, rng.choice(src.target_lengths))
                d = _digest(key)
                if d not in self.seen:
                    break
            self.seen.add(d)
            texts[n] = text
            if len(key) >= self.params["min_chars"]:
                recombined.append(n)
            if self.prov:
                origin = [src.pool.origin[i] for i in chosen]
                self.prov.write(json.dumps({"id": line_id(k, src.name, n + 1), "clauses_from": origin}) + "\n")
        return recombined

    def _plant(self, rng: random.Random, src: _Source, k: int, n: int, texts: list, recombined: list[int]) -> str:
        """A near-copy of a random line of copy 0 or of this copy (see :func:`scale_near`) for
        line ``n``; its truth line written."""
        from reviewlake.lake.minhash import jaccard, shingle_codes

        if recombined and rng.random() >= 1.0 / (k + 1):
            src_n = rng.choice(recombined)
            src_id, src_text = line_id(k, src.name, src_n + 1), texts[src_n]
        else:
            src_n = rng.choice(src.originals)
            src_id, src_text = line_id(0, src.name, src_n + 1), src.lines[src_n]
        copy = None
        while copy is None:
            kind = rng.choice(KINDS)
            copy = perturb(src_text, kind, rng, self.cjk_pool)
        a, b = text_key(src_text), text_key(copy)
        ngram = self.params["ngram"]
        jac = jaccard(shingle_codes(a, ngram), shingle_codes(b, ngram))
        pair = {
            "source": src_id,
            "copy": line_id(k, src.name, n + 1),
            "kind": kind,
            "key_equal": a == b,
            "key_jaccard": round(jac, 4),
        }
        self.truth.write(json.dumps(pair, ensure_ascii=False) + "\n")
        self.kinds[kind] += 1
        self.key_equal += a == b
        self.key_jaccard_ge_0_8 += jac >= 0.8
        return copy


def _read_sources(source: Path, min_chars: int, seen: set[bytes]) -> list[_Source]:
    """The ``*.txt`` files of ``source``, their keys' digests added to ``seen``."""
    sources = []
    for path in sorted(source.glob("*.txt")):
        lines = path.read_text(encoding="utf-8").splitlines()
        keys = [text_key(line) for line in lines]
        seen.update(_digest(k) for k in keys)
        originals = [n for n, k in enumerate(keys) if len(k) >= min_chars]
        pool = _ClausePool(lines, path.name)
        sources.append(_Source(path.name, lines, keys, pool, originals, [len(k) for k in keys]))
    return sources


def scale_near(
    source: Path,
    out: Path,
    factor: int,
    seed: int = 20261127,
    near_fraction: float = 0.05,
    min_chars: int = 10,
    ngram: int = 3,
    provenance: bool = False,
) -> dict:
    """Write a corpus of ``factor`` times the lines of the ``*.txt`` files of ``source``: copy 0
    is the source; every line of copies 1.. is a planted near-copy (probability
    ``near_fraction``) or a new recombined document whose dedupe key is distinct from every
    other key of the corpus. The source of a near-copy in copy k is a random line of copy 0
    (probability 1/(k+1)) or a random recombined document of the same copy and file, always with
    a key of at least ``min_chars`` characters; so the number of planted pairs grows linearly
    with ``factor`` and no document collects ever more copies.

    Writes ``near_truth.jsonl`` (one planted pair per line: source and copy line ids, kind,
    ``key_equal`` (the dedupe key does not see the change), ``key_jaccard`` of the keys' character
    ``ngram`` shingles), ``manifest.json`` (the numbers; also returned) and, with ``provenance``,
    ``provenance.jsonl`` (for each recombined line the copy-0 lines its clauses came from)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    seen: set[bytes] = set()
    sources = _read_sources(source, min_chars, seen)
    cjk_pool = "".join(sorted({c for src in sources for line in src.lines for c in line if _is_cjk(c)}))
    params = {"factor": factor, "seed": seed, "near_fraction": near_fraction, "min_chars": min_chars, "ngram": ngram}
    files = []
    with (
        open(out / TRUTH_FILE, "w", encoding="utf-8") as truth,
        open(out / PROVENANCE_FILE, "w", encoding="utf-8") if provenance else contextlib.nullcontext() as prov,
    ):
        copies = _NearCopies(out, params, seen, cjk_pool, truth, prov)
        for src in sources:
            copy0 = out / line_id(0, src.name, 0).rsplit(":", 1)[0]
            copy0.parent.mkdir(parents=True, exist_ok=True)
            copy0.write_text("\n".join(src.lines) + "\n", encoding="utf-8")
            files.append({"file": f"copy_0000/{src.name}", "lines": len(src.lines), "recombined": 0, "planted": 0})
            files.extend(copies.write(src, k) for k in range(1, factor))
    files.sort(key=lambda f: f["file"])
    manifest = {
        "generator": "bench.generators.scale_corpus.scale_near",
        **params,
        "kinds": list(KINDS),
        "key_invisible_kinds": list(KEY_INVISIBLE),
        "truth": TRUTH_FILE,
        "files": files,
        **{n: sum(f[n] for f in files) for n in ("lines", "recombined", "planted")},
        "planted_by_kind": dict(sorted(copies.kinds.items())),
        "planted_key_equal": copies.key_equal,
        "planted_key_jaccard_ge_0_8": copies.key_jaccard_ge_0_8,
        **({"provenance": PROVENANCE_FILE} if provenance else {}),
    }
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factor", type=int, default=10)
    p.add_argument("--source", type=Path, default=ROOT / "data" / "landing")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument(
        "--near", action="store_true", help="distinct documents with planted near-copies and their truth (scale_near)"
    )
    p.add_argument("--near-fraction", type=float, default=0.05, help="with --near: share of planted near-copies")
    p.add_argument("--min-chars", type=int, default=10, help="with --near: least key length of a near-copy's source")
    p.add_argument("--provenance", action="store_true", help="with --near: also write provenance.jsonl")
    args = p.parse_args()
    if args.near:
        m = scale_near(
            args.source,
            args.out,
            args.factor,
            args.seed,
            args.near_fraction,
            args.min_chars,
            provenance=args.provenance,
        )
        print(f"{m['lines']} lines ({m['recombined']} recombined, {m['planted']} planted near-copies) in {args.out}")
    else:
        print(f"{scale(args.source, args.out, args.factor, args.seed)} lines in {args.out}")


if __name__ == "__main__":
    main()

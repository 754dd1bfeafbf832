"""MinHash signatures over character n-gram shingles, and LSH banding, vectorised with numpy.

Chinese has no spaces, so shingles are overlapping character n-grams of the dedupe key (never a
split on ``\\W``). A shingle is a 64-bit rolling code of its code points; permutation i maps it to
``(a_i * x + b_i) >> 32`` (multiply-shift over uint64, a universal family); the signature is the
minimum per permutation. A whole Arrow batch is hashed at once (``np.minimum.reduceat`` over the
concatenated shingles of all its texts), so the per-text Python cost is one ``encode``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class LshParams:
    num_perm: int  # signature length = bands * rows
    bands: int
    rows: int
    ngram: int
    seed: int

    def p_candidate(self, jaccard: float) -> float:
        """Probability that a pair with this Jaccard similarity shares at least one band."""
        return 1.0 - (1.0 - jaccard**self.rows) ** self.bands


def choose_bands(threshold: float, max_perm: int = 128, min_recall: float = 0.985) -> tuple[int, int]:
    """(bands, rows) with bands*rows <= max_perm catching a pair at ``threshold`` with probability
    >= ``min_recall``, taking the most rows per band (fewest false candidates) that does."""
    best = None
    for rows in range(1, max_perm + 1):
        bands = max_perm // rows
        if bands == 0:
            break
        if 1.0 - (1.0 - threshold**rows) ** bands >= min_recall:
            best = (bands, rows)
    if best is None:
        raise ValueError(f"no banding of {max_perm} permutations reaches recall {min_recall} at {threshold}")
    return best


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63 - 1, size=num_perm, dtype=np.uint64) | np.uint64(1)  # odd multipliers
    b = rng.integers(0, 2**63 - 1, size=num_perm, dtype=np.uint64)
    return a, b


def shingle_codes(text: str, n: int) -> np.ndarray:
    """Distinct 64-bit codes of the character n-grams of ``text`` (the whole text if shorter)."""
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(cps) == 0:
        return np.zeros(0, dtype=np.uint64)
    n = min(n, len(cps))
    codes = np.zeros(len(cps) - n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            codes = codes * _MIX + cps[j : len(cps) - n + 1 + j]
    return np.unique(codes)


def signatures(texts: Sequence[str], params: LshParams) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(signature of each text as uint32 values in int64, distinct shingle codes as int64)."""
    a, b = permutations(params.num_perm, params.seed)
    shingles = [shingle_codes(t or "", params.ngram) for t in texts]
    sizes = np.array([len(s) for s in shingles])
    out = [np.full(params.num_perm, -1, dtype=np.int64) for _ in texts]
    nonempty = np.flatnonzero(sizes)
    if len(nonempty):
        flat = np.concatenate([shingles[i] for i in nonempty])
        starts = np.concatenate([[0], np.cumsum(sizes[nonempty])[:-1]])
        with np.errstate(over="ignore"):
            hashed = (a[:, None] * flat[None, :] + b[:, None]) >> np.uint64(32)  # num_perm x total
        mins = np.minimum.reduceat(hashed, starts, axis=1).astype(np.int64)  # num_perm x docs
        for col, i in enumerate(nonempty):
            out[i] = mins[:, col]
    return out, [s.view(np.int64) for s in shingles]


def jaccard(x: np.ndarray, y: np.ndarray) -> float:
    """Exact Jaccard similarity of two sets of shingle codes."""
    if len(x) == 0 and len(y) == 0:
        return 1.0
    inter = len(np.intersect1d(x, y, assume_unique=True))
    return inter / (len(x) + len(y) - inter)


def default_params(threshold: float, ngram: int, max_perm: int, seed: int, min_recall: float) -> LshParams:
    bands, rows = choose_bands(threshold, max_perm, min_recall)
    return LshParams(bands * rows, bands, rows, ngram, seed)

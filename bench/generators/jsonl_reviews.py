"""JSON Lines reviews of a given size, as one big file and as the same lines cut into many small
files, deterministically (for :mod:`bench.speed.ingest_big`; never committed).

Each line is a review of the bundled corpus with a source ``id``, rating, product, user, time and
tags, about 400 bytes. ``--gib 3 --files 300`` writes one ~3 GiB ``<out>/big/reviews.jsonl`` and the
same lines in 300 files of ~10 MiB under ``<out>/small/``.

    python -m bench.generators.jsonl_reviews --gib 0.1 --files 10 --out /tmp/jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from bench.record import ROOT

CORPUS = ROOT / "data" / "landing"
TAGS = ["物流快", "包装好", "性价比高", "客服差", "质量一般", "会回购"]


def review(rng: random.Random, n: int, texts: list[str]) -> bytes:
    """Line ``n``: a random text of the corpus with made-up source fields, as JSON plus newline."""
    row = {
        "id": f"r{n:010d}",
        "content": rng.choice(texts),
        "star": rng.randint(1, 5),
        "product_id": f"p{rng.randrange(100_000)}",
        "user_id": f"u{rng.randrange(1_000_000)}",
        "created_at": f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d} "
        f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:00",
        "tags": rng.sample(TAGS, 2),
    }
    return json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n"


def generate(work: Path, gib: float, files: int, seed: int = 20261203) -> dict:
    """Write ``work/big/reviews.jsonl`` (``gib`` GiB) and the same lines in ``files`` files under
    ``work/small``; returns lines and bytes written and the number of small files."""
    texts = [
        line.strip()
        for path in sorted(CORPUS.glob("*.txt"))
        for line in path.read_bytes().decode("utf-8", "replace").split("\n")
        if line.strip()
    ]
    rng = random.Random(seed)
    target = int(gib * 2**30)
    per_file = target // files
    (work / "big").mkdir(parents=True, exist_ok=True)
    (work / "small").mkdir(parents=True, exist_ok=True)
    written = lines = 0
    part, part_bytes = 0, 0
    small = open(work / "small" / f"part-{part:04d}.jsonl", "wb")  # noqa: SIM115 - reopened for each part
    with open(work / "big" / "reviews.jsonl", "wb") as big:
        while written < target:
            chunk = [review(rng, lines + i, texts) for i in range(10_000)]
            lines += len(chunk)
            for line in chunk:
                big.write(line)
                if part_bytes >= per_file and part < files - 1:
                    small.close()
                    part, part_bytes = part + 1, 0
                    small = open(work / "small" / f"part-{part:04d}.jsonl", "wb")  # noqa: SIM115 - closed above/below
                small.write(line)
                part_bytes += len(line)
                written += len(line)
    small.close()
    return {"lines": lines, "bytes": written, "small_files": part + 1}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gib", type=float, default=3.0)
    p.add_argument("--files", type=int, default=300)
    p.add_argument("--seed", type=int, default=20261203)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    print(generate(args.out, args.gib, args.files, args.seed))


if __name__ == "__main__":
    main()

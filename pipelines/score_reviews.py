"""Entry point: ``spark-submit pipelines/score_reviews.py [--model-version V] [--lakehouse URI]``.

Batch scoring of silver.reviews with one exported model version into gold.predictions
(MERGE on review_id + model_version; see train/score.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run by path (spark-submit pipelines/x.py): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from pipelines.core import cli

    p = cli.parser("Score silver.reviews with a trained model version into gold.predictions.",
                   with_input=False)
    p.add_argument("--model-version", help="folder name under models_dir, or `latest` "
                                           "(default: score.model_version)")

    def job(args, cfg):
        from pipelines.core.spark import get_spark
        from train import score

        score.run(get_spark(cfg), cfg, model_version=args.model_version)

    return cli.run("score_reviews", job, p, argv)


if __name__ == "__main__":
    sys.exit(main())

"""Entry point (``make features``): ``spark-submit pipelines/build_features.py [--lakehouse URI]``.

silver.reviews -> gold.vocab, gold.labels, gold.features, gated (see features/job.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run by path (spark-submit pipelines/x.py): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from features import job
    from pipelines.core import cli
    from pipelines.core.spark import get_spark

    p = cli.parser("Build gold.vocab / gold.labels / gold.features from silver.reviews.", with_input=False)
    p.add_argument("--force", action="store_true", help="rebuild even if silver did not change")
    return cli.run("build_features", lambda args, cfg: job.run(get_spark(cfg), cfg, force=args.force), p, argv)


if __name__ == "__main__":
    sys.exit(main())

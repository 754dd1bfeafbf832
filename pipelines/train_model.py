"""Entry point: ``spark-submit pipelines/train_model.py [--lakehouse URI] [--conf train.epochs=5]``.

gold.features/vocab/labels -> Horovod-on-Spark training -> test metrics -> ``<models_dir>/<version>/``
(see train/job.py). Needs as many concurrent Spark task slots as ``train.num_proc``.
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run by path (spark-submit pipelines/x.py): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from pipelines.core import cli

    p = cli.parser("Train the sentiment model with Horovod on Spark and export a model version.",
                   with_input=False)
    p.add_argument("--version", help="model version name (default: train.version; auto = UTC timestamp)")

    def job(args, cfg):
        from pipelines.core.spark import get_spark
        from train import job as train_job

        if args.version:
            cfg = cfg.with_overrides([f"train.version={args.version}"])
        train_job.run(get_spark(cfg), cfg)

    return cli.run("train_model", job, p, argv)


if __name__ == "__main__":
    sys.exit(main())

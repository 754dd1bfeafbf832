"""Entry point: ``spark-submit pipelines/clean_reviews.py --input data/landing [--lakehouse URI]``.

Ingest -> clean -> dedupe -> segment -> silver, every layer gated (see pipelines/silver_job.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run by path (spark-submit pipelines/x.py): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from pipelines import silver_job
    from pipelines.core import cli
    from pipelines.core.run_state import RunState
    from pipelines.core.spark import get_spark

    p = cli.parser("Ingest landing files and build silver.reviews / silver.disposition.")
    p.add_argument("--full", action="store_true", help="re-ingest every input file (ignoring the file log) and rebuild silver from all of bronze")
    p.add_argument("--batch", action="append", default=[], metavar="BATCH_ID",
                   help="redo a batch: re-ingest the input files that batch ingested (repeatable)")
    p.add_argument("--since", metavar="TIMESTAMP",
                   help="backfill: re-ingest the input files ingested at or after this time (e.g. 2026-11-01)")

    def job(args, cfg):
        inputs = args.input or [s.strip() for s in str(cfg["ingest.input"]).split(",")]
        state = RunState(cfg, "clean_reviews", inputs, silver_job.tables(cfg))
        if not (args.full or args.batch or args.since):
            last = state.unchanged()
            if last is not None:
                silver_job.report_unchanged(cfg, last)
                return
        report = silver_job.run(get_spark(cfg), cfg, inputs, full=args.full, redo_batches=args.batch, since=args.since)
        state.record(report.run_id)

    return cli.run("clean_reviews", job, p, argv)


if __name__ == "__main__":
    sys.exit(main())

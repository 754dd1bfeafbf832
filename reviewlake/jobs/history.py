"""The history job (``make history``): ``spark-submit pipelines/history.py [--table layer/name]``.

Prints a table's history (``DESCRIBE HISTORY``: version, time, operation, parameters, metrics,
userMetadata), or without ``--table`` every table with its latest version. Any listed version
can be read with ``spark.read.format("delta").option("versionAsOf", n).load(uri)`` and restored
with ``make rollback``.
"""

from __future__ import annotations

import argparse

from reviewlake.core import delta_io, tables
from reviewlake.core.job import Job, RunContext
from reviewlake.lake import maintenance


def run(ctx: RunContext, table: str | None, limit: int) -> None:
    if not table:
        for name in maintenance.list_tables(ctx.spark, ctx.cfg):
            last = delta_io.history(ctx.spark, tables.under(ctx.cfg, name), 1)[0]
            print(f"{name:<24} version {last['version']:>5}  {str(last['timestamp'])[:19]}  {last['operation']}")
        return
    name = maintenance.table_name(table)
    uri = tables.under(ctx.cfg, name)
    delta_io.require(ctx.spark, uri, name)
    print(f"history of {name} ({uri}), newest first:")
    print(maintenance.format_history(delta_io.history(ctx.spark, uri, limit)))


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--table", metavar="LAYER/NAME", help="e.g. silver/reviews (default: list every table)")
    p.add_argument("--limit", type=int, default=50, help="newest entries to print (default 50)")


JOB = Job(
    "history",
    "Print the history of a Delta table of the lakehouse.",
    body=lambda ctx, args: run(ctx, args.table, args.limit),
    options=_options,
    lock=False,
    report=False,
)
main = JOB.main

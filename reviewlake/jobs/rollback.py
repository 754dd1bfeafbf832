"""The rollback job (``make rollback``): ``spark-submit pipelines/rollback.py --table layer/name --version N``.

Prints the table's history, then ``RESTORE TABLE delta.`<uri>` TO VERSION AS OF N``: a new
version whose content is version N's (nothing is deleted; the rollback itself can be rolled
back). Holds the run lock of the job that writes the table (:mod:`reviewlake.lake.maintenance`).
"""

from __future__ import annotations

import argparse

from reviewlake.core import delta_io, tables
from reviewlake.core.job import Job, RunContext
from reviewlake.lake import maintenance


def run(ctx: RunContext, table: str, version: int, limit: int) -> None:
    name = maintenance.table_name(table)
    uri = tables.under(ctx.cfg, name)
    delta_io.require(ctx.spark, uri, name)
    print(f"history of {name} ({uri}) before the rollback, newest first:")
    print(maintenance.format_history(delta_io.history(ctx.spark, uri, limit)))
    r = maintenance.restore(ctx, name, version)
    if not r["restored"]:
        print(f"{name} is at version {r['version']} already: nothing to restore")
        return
    print(
        f"{name}: version {r['to_version']} restored as version {r['new_version']} "
        f"(was {r['from_version']}; files restored {r['num_restored_files']}, removed {r['num_removed_files']}). "
        f"Undo with: make rollback TABLE={name} VERSION={r['from_version']}"
    )


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--table", required=True, metavar="LAYER/NAME", help="e.g. silver/reviews")
    p.add_argument("--version", required=True, type=int, help="the version to restore (see make history)")
    p.add_argument("--limit", type=int, default=20, help="history entries printed first (default 20)")


JOB = Job(
    "rollback",
    "Restore a Delta table of the lakehouse to an earlier version.",
    body=lambda ctx, args: run(ctx, args.table, args.version, args.limit),
    options=_options,
    lock=False,
    report=False,
)
main = JOB.main

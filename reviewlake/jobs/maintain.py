"""The maintain job (``make maintain``): ``spark-submit pipelines/maintain.py [--table layer/name]``.

OPTIMIZE (compaction, or Z-order by ``maintenance.zorder``) and VACUUM (``maintenance.
vacuum_retention_hours``) every Delta table under bronze/, silver/ and gold/, logging active
files and data files on storage before and after (:mod:`reviewlake.lake.maintenance`), each table
under the run lock of the job that writes it.
"""

from __future__ import annotations

import argparse

from reviewlake.core.job import Job
from reviewlake.lake import maintenance


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--table",
        action="append",
        default=[],
        metavar="LAYER/NAME",
        help="only this table, e.g. silver/reviews (repeatable; default: every table)",
    )


JOB = Job(
    "maintain",
    "OPTIMIZE (compaction, Z-order) and VACUUM the lakehouse's Delta tables.",
    body=lambda ctx, args: maintenance.run(ctx, args.table),
    options=_options,
)
main = JOB.main

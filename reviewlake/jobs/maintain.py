"""Entry point (``make maintain``): ``spark-submit pipelines/maintain.py [--table layer/name] [--lakehouse URI]``.

OPTIMIZE (compaction, or Z-order by ``maintenance.zorder``) and VACUUM (``maintenance.
vacuum_retention_hours``) every Delta table under bronze/, silver/ and gold/, logging active
files and data files on storage before and after (see reviewlake/jobs/maintenance.py).
"""

from __future__ import annotations

from reviewlake.core import cli


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("OPTIMIZE (compaction, Z-order) and VACUUM the lakehouse's Delta tables.", with_input=False)
    p.add_argument(
        "--table",
        action="append",
        default=[],
        metavar="LAYER/NAME",
        help="only this table, e.g. silver/reviews (repeatable; default: every table)",
    )

    def job(args, cfg):
        from reviewlake.core.spark import get_spark
        from reviewlake.jobs import maintenance

        maintenance.run(get_spark(cfg), cfg, args.table)

    return cli.run("maintain", job, p, argv)

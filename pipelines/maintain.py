"""Entry point (``make maintain``): ``spark-submit pipelines/maintain.py [--table layer/name] [--lakehouse URI]``.

OPTIMIZE (compaction, or Z-order by ``maintenance.zorder``) and VACUUM (``maintenance.
vacuum_retention_hours``) every Delta table under bronze/, silver/ and gold/, logging active
files and data files on storage before and after (see pipelines/maintenance.py).
"""
from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run by path (spark-submit pipelines/x.py): make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from pipelines.core import cli

    p = cli.parser("OPTIMIZE (compaction, Z-order) and VACUUM the lakehouse's Delta tables.", with_input=False)
    p.add_argument("--table", action="append", default=[], metavar="LAYER/NAME",
                   help="only this table, e.g. silver/reviews (repeatable; default: every table)")

    def job(args, cfg):
        from pipelines import maintenance
        from pipelines.core.spark import get_spark

        maintenance.run(get_spark(cfg), cfg, args.table)

    return cli.run("maintain", job, p, argv)


if __name__ == "__main__":
    sys.exit(main())

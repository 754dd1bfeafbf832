"""Entry point (``make history``): ``spark-submit pipelines/history.py [--table layer/name] [--lakehouse URI]``.

Prints a table's history (``DESCRIBE HISTORY``: version, time, operation, parameters, metrics,
userMetadata), or without ``--table`` every table with its latest version. Any listed version
can be read with ``spark.read.format("delta").option("versionAsOf", n).load(uri)`` and restored
with ``make rollback``.
"""

from __future__ import annotations

from reviewlake.core import cli


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("Print the history of a Delta table of the lakehouse.", with_input=False)
    p.add_argument("--table", metavar="LAYER/NAME", help="e.g. silver/reviews (default: list every table)")
    p.add_argument("--limit", type=int, default=50, help="newest entries to print (default 50)")

    def job(args, cfg):
        from reviewlake.core.spark import get_spark
        from reviewlake.jobs import maintenance

        spark = get_spark(cfg)
        if not args.table:
            for name in maintenance.list_tables(spark, cfg):
                last = maintenance.history(spark, maintenance.uri_of(cfg, name), 1)[0]
                print(f"{name:<24} version {last['version']:>5}  {str(last['timestamp'])[:19]}  {last['operation']}")
            return
        name = maintenance.table_name(args.table)
        uri = maintenance.uri_of(cfg, name)
        maintenance.require_table(spark, uri, name)
        print(f"history of {name} ({uri}), newest first:")
        print(maintenance.format_history(maintenance.history(spark, uri, args.limit)))

    return cli.run("history", job, p, argv, lock=False)

"""Entry point (``make rollback``): ``spark-submit pipelines/rollback.py --table layer/name --version N``.

Prints the table's history, then ``RESTORE TABLE delta.`<uri>` TO VERSION AS OF N``: a new
version whose content is version N's (nothing is deleted; the rollback itself can be rolled
back). Holds the run lock of the job that writes the table (see reviewlake/jobs/maintenance.py).
"""

from __future__ import annotations

from reviewlake.core import cli


def main(argv: list[str] | None = None) -> int:
    p = cli.parser("Restore a Delta table of the lakehouse to an earlier version.", with_input=False)
    p.add_argument("--table", required=True, metavar="LAYER/NAME", help="e.g. silver/reviews")
    p.add_argument("--version", required=True, type=int, help="the version to restore (see make history)")
    p.add_argument("--limit", type=int, default=20, help="history entries printed first (default 20)")

    def job(args, cfg):
        from reviewlake.core.spark import get_spark
        from reviewlake.jobs import maintenance

        spark = get_spark(cfg)
        name = maintenance.table_name(args.table)
        uri = maintenance.uri_of(cfg, name)
        maintenance.require_table(spark, uri, name)
        print(f"history of {name} ({uri}) before the rollback, newest first:")
        print(maintenance.format_history(maintenance.history(spark, uri, args.limit)))
        r = maintenance.restore(spark, cfg, name, args.version)
        if not r["restored"]:
            print(f"{name} is at version {r['version']} already: nothing to restore")
            return
        print(
            f"{name}: version {r['to_version']} restored as version {r['new_version']} "
            f"(was {r['from_version']}; files restored {r['num_restored_files']}, removed {r['num_removed_files']}). "
            f"Undo with: make rollback TABLE={name} VERSION={r['from_version']}"
        )

    return cli.run("rollback", job, p, argv, lock=False)

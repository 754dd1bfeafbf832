"""Profile one ``clean_reviews`` run by Spark action: every DataFrame action, Delta write and
MERGE, Delta history/table lookups and GX gate is timed and attributed to the line of
``pipelines/`` (or ``quality/``) that triggered it, with its start time, so the gaps between
actions (driver-side planning, Python work) show too. Not a test, not a benchmark: a tool for
finding where a run's time goes before changing anything (issue #7, "profile before optimising").

    spark-submit --driver-memory 6g bench/speed/profile_run.py OUT.json --input X --lakehouse L \\
        --conf reports_dir=R

Writes OUT.json (stamped by :mod:`bench.record`): ``{"rc", "seconds_in_main", "actions": [[kind,
site, seconds, start], ...]}`` and prints the actions of 0.3 s or more. Combine with the driver's DAGScheduler log
(``-Dlog4j.configurationFile`` with ``org.apache.spark.scheduler.DAGScheduler`` at INFO) to
split a slow action into its Spark jobs.
"""

from __future__ import annotations

import functools
import inspect
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run by spark-submit from any folder

from bench.record import ROOT, Record

RECORDS: list[tuple[str, str, float, float]] = []
T0 = time.perf_counter()


def site() -> str:
    """The two innermost frames of our code (pipelines/, quality/) below the wrapper."""
    frames = []
    for fr in inspect.stack()[2:]:
        rel = Path(fr.filename).resolve()
        if rel.is_relative_to(ROOT) and ".venv" not in rel.parts:
            frames.append(f"{rel.relative_to(ROOT)}:{fr.lineno} {fr.function}")
            if len(frames) == 2:
                break
    return " <- ".join(frames) or "?"


def wrap(owner, name: str, label: str | None = None) -> None:
    """Replace ``owner.name`` by a timed wrapper that records into :data:`RECORDS`."""
    f = getattr(owner, name)

    @functools.wraps(f)
    def timed(*a, **k):
        where, t = site(), time.perf_counter()
        try:
            return f(*a, **k)
        finally:
            RECORDS.append((label or name, where, round(time.perf_counter() - t, 2), round(t - T0, 2)))

    setattr(owner, name, timed)


def instrument() -> None:
    from delta.tables import DeltaMergeBuilder, DeltaTable
    from pyspark.sql import DataFrameWriter, SparkSession
    from pyspark.sql.classic.dataframe import DataFrame  # the class actions run on (PySpark 4)

    for n in ("collect", "count", "first", "isEmpty", "toPandas", "localCheckpoint"):
        wrap(DataFrame, n)
    wrap(DataFrameWriter, "save")
    wrap(DeltaMergeBuilder, "execute", "merge")
    for n in ("history", "isDeltaTable", "forPath"):
        wrap(DeltaTable, n)
    wrap(SparkSession, "createDataFrame")
    from reviewlake.quality import gate

    wrap(gate, "require", "gx_require")


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(sys.argv) > 1 else 2
    out = Path(sys.argv.pop(1))
    rec = Record("profile_run")
    instrument()
    from reviewlake.jobs import clean_reviews

    t0 = time.perf_counter()
    rc = clean_reviews.main(sys.argv[1:])
    total = round(time.perf_counter() - t0, 1)
    rec.write({"rc": rc, "seconds_in_main": total, "actions": RECORDS}, out)
    print(f"rc={rc}, {total} s in main; actions of 0.3 s or more (start, seconds, kind, site):")
    for kind, where, seconds, start in RECORDS:
        if seconds >= 0.3:
            print(f"{start:8.1f} {seconds:7.2f}  {kind:14s} {where}")
    return rc


if __name__ == "__main__":
    sys.exit(main())

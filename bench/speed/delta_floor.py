"""Benchmark (issues #5, #17): the fixed costs any run pays on this box, whatever its increment:
the Spark session, the first Delta read of a process (JVM/Delta warm-up) and a Delta MERGE of 100
new rows into each table an incremental ``clean_reviews`` run merges into (bronze reviews and file
log, the three silver tables), each repeated ``--repeat`` times in one warm session, in seconds and
in Spark jobs (counted by job group, as the run report counts them).

The tables are copied from ``--lakehouse`` (e.g. the one a full ``bench.speed.incremental`` run left)
into a scratch folder first, so the source is never written. The sum of these floors, set against
the incremental target (10% of the full run), shows how much of that budget is spent before any
work proportional to the increment.

Writes ``bench/results/<UTC date>-delta_floor.json`` (or ``--out``). Not a test.

    spark-submit --driver-memory 6g bench/speed/delta_floor.py --lakehouse /tmp/bench/lake
"""

from __future__ import annotations

import argparse
import functools
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run by spark-submit from any folder

from pyspark.sql import functions as F

from bench.record import ROOT, Record, log
from bench.speed.driver_floor import MERGE_KEYS
from reviewlake.core import delta_io
from reviewlake.core.config import load_config
from reviewlake.core.spark import get_spark
from reviewlake.core.spark_work import SparkWork


def measured(spark, label: str, action):
    """(seconds, Spark jobs, result) of ``action()``."""
    work = SparkWork(spark, label, {}).start()
    t = time.perf_counter()
    out = action()
    seconds = round(time.perf_counter() - t, 2)
    return seconds, work.finish()["jobs"], out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lakehouse", required=True, help="a local lakehouse holding the silver tables")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    rec = Record("delta_floor")
    scratch = Path(tempfile.mkdtemp(prefix="reviewlake-delta-floor-"))
    t0 = time.perf_counter()
    spark = get_spark(
        load_config(
            overrides=[f"lakehouse={scratch}", f"reports_dir={scratch / 'reports'}", f"spark.jars_dir={ROOT / 'jars'}"]
        )
    )
    result = {
        "issue": 17,
        "source_lakehouse": args.lakehouse,
        "session_seconds": round(time.perf_counter() - t0, 2),
        "tables": {},
    }
    try:
        for name, keys in MERGE_KEYS.items():
            dst = scratch / name
            shutil.copytree(Path(args.lakehouse) / name, dst)
            uri = dst.resolve().as_uri()
            times: dict[str, list] = {
                "read_count_seconds": [],
                "read_count_jobs": [],
                "merge_100_new_rows_seconds": [],
                "merge_100_new_rows_jobs": [],
            }
            for i in range(args.repeat):
                sec, jobs, rows = measured(spark, f"read-{name}-{i}", lambda uri=uri: delta_io.read(spark, uri).count())
                times["read_count_seconds"].append(sec)
                times["read_count_jobs"].append(jobs)
                # 100 rows the table does not hold yet (a suffixed key): the insert an increment does
                sample = (
                    delta_io.read(spark, uri)
                    .limit(100)
                    .withColumn(keys[-1], F.concat(F.col(keys[-1]), F.lit(f"-floor{i}")))
                    .localCheckpoint()
                )
                merge = functools.partial(delta_io.merge, spark, sample, uri, keys)
                sec, jobs, _ = measured(spark, f"merge-{name}-{i}", merge)
                times["merge_100_new_rows_seconds"].append(sec)
                times["merge_100_new_rows_jobs"].append(jobs)
            result["tables"][name] = {"rows": rows, **times}
            log(f"{name}: {result['tables'][name]}")
    finally:
        spark.stop()  # first: jobs still reading the copies' logs failed once they were removed
        shutil.rmtree(scratch, ignore_errors=True)
    rec.write(result, args.out)


if __name__ == "__main__":
    main()

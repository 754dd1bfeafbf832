"""Benchmark (issue #5): the fixed costs any run pays on this box, whatever its increment: the
Spark session, the first Delta read of a process (JVM/Delta warm-up) and a Delta MERGE of 100
rows into each silver table of a lakehouse, each repeated ``--repeat`` times in one warm session.

The tables are copied from ``--lakehouse`` (e.g. the one a full ``bench_incremental`` run left)
into a scratch folder first, so the source is never written. The sum of these floors, set against
the incremental target (10% of the full run), shows how much of that budget is spent before any
work proportional to the increment.

Writes ``bench/results/<UTC date>-delta_floor.json``. Not a test.

    spark-submit --driver-memory 6g bench/delta_floor.py --lakehouse /tmp/bench/lake
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))    # run by spark-submit from any folder

from bench.timing import log  # noqa: E402
from reviewlake.core import delta_io  # noqa: E402
from reviewlake.core.config import load_config  # noqa: E402
from reviewlake.core.spark import get_spark  # noqa: E402

TABLES = ("silver/reviews", "silver/dedupe_index", "silver/disposition")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lakehouse", required=True, help="a local lakehouse holding the silver tables")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    started = datetime.now(timezone.utc)
    scratch = Path(tempfile.mkdtemp(prefix="reviewlake-delta-floor-"))
    t0 = time.perf_counter()
    spark = get_spark(load_config(overrides=[f"lakehouse={scratch}", f"reports_dir={scratch / 'reports'}",
                                             f"spark.jars_dir={ROOT / 'jars'}"]))
    result = {"benchmark": "delta_floor", "issue": 5, "measured_at": started.isoformat(timespec="seconds"),
              "source_lakehouse": args.lakehouse, "session_seconds": round(time.perf_counter() - t0, 2), "tables": {}}
    try:
        for name in TABLES:
            dst = scratch / name
            shutil.copytree(Path(args.lakehouse) / name, dst)
            uri = dst.resolve().as_uri()
            times: dict[str, list[float]] = {"read_count_seconds": [], "merge_100_rows_seconds": []}
            for _ in range(args.repeat):
                t = time.perf_counter()
                rows = delta_io.read(spark, uri).count()
                times["read_count_seconds"].append(round(time.perf_counter() - t, 2))
                sample = delta_io.read(spark, uri).limit(100).localCheckpoint()
                t = time.perf_counter()
                delta_io.merge(spark, sample, uri, ["review_id"])
                times["merge_100_rows_seconds"].append(round(time.perf_counter() - t, 2))
            result["tables"][name] = {"rows": rows, **times}
            log(f"{name}: {result['tables'][name]}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    out = args.out or ROOT / "bench" / "results" / f"{started:%Y-%m-%d}-delta_floor.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {out}")


if __name__ == "__main__":
    main()

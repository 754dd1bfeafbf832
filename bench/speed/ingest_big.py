"""Benchmark: the ingest stage on one big JSON Lines file against the same records in many small
files: bronze rows and ids, seconds, and peak resident memory of the driver and of each Python
worker (the claim: it does not grow with the size of one file).

The records are generated (:mod:`bench.generators.jsonl_reviews`: deterministic, never committed):
reviews of the bundled corpus with a source ``id``, rating, product, user and time, about 400 bytes
a line. ``--gib 3 --files 300`` writes one ~3 GiB ``big/reviews.jsonl`` (read by lines, in byte
ranges) and the same lines cut into 300 files of ~10 MiB under ``small/`` (each under
``ingest.split_min_bytes``, so read whole through ``binaryFile``). Each folder is ingested by
``ingest_landing`` (the ``clean_reviews`` ingest stage: listing, hashing, parsing, bronze gate, MERGE)
in a process of its own, sampled every half second; a last process compares the two bronze tables
(rows, distinct ids, a hash of every (id, text)).

Writes ``bench/results/<UTC date>-ingest_big.json``. Not a test: it asserts nothing about speed.

    python -m bench.speed.ingest_big --gib 3 --files 300 --work /tmp/ingest_big
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.generators.jsonl_reviews import generate
from bench.record import ROOT, Record, log
from bench.speed.timing import PeakMemory

DRIVER_MEMORY = "6g"


def child_ingest(folder: str, lakehouse: str, reports: str) -> None:
    """Run the ingest stage of ``clean_reviews`` on ``folder`` into a fresh lakehouse."""
    from reviewlake.core.config import load_config
    from reviewlake.core.job import RunContext
    from reviewlake.core.spark import get_spark
    from reviewlake.jobs.clean_reviews import ingest_landing
    from reviewlake.lake.bronze import IngestRequest

    cfg = load_config(overrides=[f"lakehouse={lakehouse}", f"reports_dir={reports}"])
    spark = get_spark(cfg)
    spark.sparkContext.setLogLevel("WARN")
    ctx = RunContext("ingest_big", cfg, write_report=False)
    report = ctx.report
    start = time.perf_counter()
    ingest_landing(ctx, IngestRequest([folder]))
    seconds = time.perf_counter() - start
    summary = {k: v for k, v in report.summary.get("ingest", {}).items() if k != "records_per_file"}
    print(
        json.dumps(
            {
                "run_ingest_seconds": round(seconds, 2),
                "ingest": summary,
                "stage_detail": report.stages[0].detail if report.stages else None,
            },
            default=str,
        )
    )
    spark.stop()


def child_compare(lakes: list[str]) -> None:
    """Print, per lakehouse: bronze rows, distinct ids, a sum of xxhash64(id, text), quarantined rows."""
    from pyspark.sql import functions as F

    from reviewlake.core import delta_io, tables
    from reviewlake.core.config import load_config
    from reviewlake.core.spark import get_spark

    spark = get_spark(load_config())
    out = {}
    for lake in lakes:
        cfg = load_config(overrides=[f"lakehouse={lake}"])
        bronze = delta_io.read(spark, tables.uri(cfg, "bronze", "reviews_raw"))
        row = bronze.agg(
            F.count("*").alias("rows"),
            F.count_distinct("review_id").alias("ids"),
            F.sum(F.xxhash64("review_id", "raw_text") % 2**31).alias("content_sum"),
        ).first()
        q = tables.uri(cfg, "bronze", "quarantine")
        out[lake] = row.asDict() | {"quarantined": delta_io.read(spark, q).count() if delta_io.exists(spark, q) else 0}
    print(json.dumps(out))
    spark.stop()


def run_child(args: list[str], env: dict) -> tuple[dict, dict, float]:
    """One child process measured: (its last stdout line as JSON with the load average before it,
    peak memory, wall seconds)."""
    load = [round(x, 2) for x in os.getloadavg()]
    log(f"child: {' '.join(args)}; load {load}")
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.speed.ingest_big", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    with PeakMemory(proc.pid) as mem:
        out, _ = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"child {args} exited {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1]) | {"load_average_before": load}, mem.peak, round(wall, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gib", type=float, default=3.0)
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--work", default="/tmp/reviewlake-ingest-big")
    parser.add_argument("--keep", action="store_true", help="keep the generated files and lakehouses")
    parser.add_argument("--child-ingest", nargs=3, metavar=("FOLDER", "LAKEHOUSE", "REPORTS"))
    parser.add_argument("--child-compare", nargs="+", metavar="LAKEHOUSE")
    args = parser.parse_args(argv)
    if args.child_ingest:
        child_ingest(*args.child_ingest)
        return 0
    if args.child_compare:
        child_compare(args.child_compare)
        return 0

    rec = Record("ingest_big")
    work = Path(args.work)
    subprocess.run(["rm", "-rf", str(work)], check=True)
    start = time.perf_counter()
    data = generate(work, args.gib, args.files)
    log(f"generated {data} in {time.perf_counter() - start:.0f} s")
    # the driver memory every job gets (Makefile SUBMIT, spark_submit in the config): local[*] runs
    # the tasks in the driver's JVM, and the default 1 GiB is too small to cache two 128 MiB splits
    env = {
        **os.environ,
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_SUBMIT_ARGS": f"--driver-memory {DRIVER_MEMORY} pyspark-shell",
    }
    runs = {}
    for case in ("big", "small"):
        out, peak, wall = run_child(
            ["--child-ingest", f"file:{work / case}", str(work / f"lake_{case}"), str(work / f"reports_{case}")], env
        )
        runs[case] = {
            "wall_seconds": wall,
            "peak_memory": peak,
            **out,
            "mib_per_second": round(data["bytes"] / 2**20 / out["run_ingest_seconds"], 2),
        }
        log(f"{case}: {runs[case]}")
    compared, _, _ = run_child(["--child-compare", str(work / "lake_big"), str(work / "lake_small")], env)
    compared.pop("load_average_before")
    same = compared[str(work / "lake_big")] == compared[str(work / "lake_small")]
    result = {
        "driver_memory": DRIVER_MEMORY,
        "data": data,
        "runs": runs,
        "bronze": compared,
        "same_bronze": same,
        "big_over_small_throughput": round(runs["big"]["mib_per_second"] / runs["small"]["mib_per_second"], 3),
    }
    rec.write(result)
    log(f"same bronze {same}, big/small throughput {result['big_over_small_throughput']}")
    if not args.keep:
        subprocess.run(["rm", "-rf", str(work)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark (issue #7): Arrow batch size and partition count, measured where they act.

Both settings matter for the job's pandas UDFs (the clean rules and the jieba segmenter), so this
runs exactly those, as ``clean_reviews`` does (:func:`reviewlake.lake.clean.apply_rules`, then
:func:`reviewlake.text.segment.tokens_column` on the cleaned text), over ``--rows`` lines of the
scaled corpus, cached in the JVM first, in one Spark session (``local[*]``), for each setting:
``spark.sql.execution.arrow.maxRecordsPerBatch`` over ``--batches`` (at the configured
partition count) and the partition count over ``--partitions`` (at the configured batch size).

Whole-job runs on this box vary by ~15% from run to run (and a fixed single-process jieba loop
by up to 30%), more than these settings could plausibly change, so whole-job before/after pairs
cannot show their effect. Here every setting runs ``--repeats`` times, interleaved (ABC ABC …),
so a drift of the box's speed falls on all settings alike; each run records wall seconds and CPU
seconds of the process tree (driver, JVM, Python workers), and a checksum of its output (rows
and tokens), which must be equal across settings.

Writes ``bench/results/<UTC date>-udf_tuning.json``. Not a test.

    python -m bench.speed.udf_tuning [--rows 100000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.generators.scale_corpus import scale_near
from bench.record import ROOT, Record, log
from bench.speed.timing import tree_cpu_seconds

BATCH = "spark.sql.execution.arrow.maxRecordsPerBatch"


def run_once(spark, texts, batch: int, rules, spec) -> dict:
    """Clean and segment ``texts`` (as partitioned) with Arrow batches of ``batch`` rows."""
    from pyspark.sql import functions as F

    from reviewlake.lake.clean import apply_rules
    from reviewlake.lake.segment import tokens_column

    spark.conf.set(BATCH, str(batch))
    cleaned = apply_rules(texts, rules)
    out = cleaned.select(F.size(tokens_column(F.col("text"), spec)).alias("n"), F.size("changed_by").alias("c"))
    cpu0, t0 = tree_cpu_seconds(os.getpid()), time.perf_counter()
    row = out.agg(F.count("*").alias("rows"), F.sum("n").alias("tokens"), F.sum("c").alias("changes")).first()
    wall, cpu = time.perf_counter() - t0, tree_cpu_seconds(os.getpid()) - cpu0
    return {
        "seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 1),
        "checksum": [row["rows"], row["tokens"], row["changes"]],
    }


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--factor", type=int, default=10, help="corpus scale the rows are taken from")
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--batches", type=int, nargs="+", default=[500, 2000, 10000])
    p.add_argument("--partitions", type=int, nargs="+", default=[2, 8, 32])
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--conf", action="append", default=[], help="config override, KEY=VALUE")
    p.add_argument("--out", type=Path, default=None)
    return p.parse_args()


def summarise(runs: dict[str, list[dict]]) -> dict[str, dict]:
    """Per setting: median wall and CPU seconds of its repeats, and rows/s at the median."""
    return {
        k: {
            "median_seconds": round(statistics.median(r["seconds"] for r in rs), 2),
            "median_cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in rs), 1),
            "rows_per_s": round(rs[0]["checksum"][0] / statistics.median(r["seconds"] for r in rs), 1),
        }
        for k, rs in runs.items()
    }


def main() -> None:
    args = parse_args()
    rec = Record("udf_tuning")

    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    from reviewlake.core.config import load_config
    from reviewlake.core.spark import get_spark
    from reviewlake.lake.clean import build_rules
    from reviewlake.text.segment import SegmenterSpec

    cfg = load_config(overrides=args.conf)
    work = Path(tempfile.mkdtemp(prefix="reviewlake-udf-tuning-"))
    log(f"x{args.factor}: scaling the corpus")
    scale_near(ROOT / "data" / "landing", work / "landing", args.factor, args.seed)
    spark = get_spark(cfg)
    conf_batch = int(spark.conf.get(BATCH))
    conf_parts = int(spark.conf.get("spark.sql.shuffle.partitions"))
    lines = (
        spark.read.option("recursiveFileLookup", "true")
        .option("pathGlobFilter", "*.txt")
        .text(str(work / "landing"))
        .withColumnRenamed("value", "raw_text")
        .where("trim(raw_text) != ''")
        .orderBy(F.xxhash64("raw_text"), "raw_text")
        .limit(args.rows)
        .persist(StorageLevel.MEMORY_ONLY)
    )  # sampled once, then repartitioned per setting
    rules, spec = build_rules(cfg.clean), SegmenterSpec.from_config(cfg.segment)
    cached = {}
    for parts in sorted(set(args.partitions) | {conf_parts}):
        cached[parts] = lines.repartition(parts).persist(StorageLevel.MEMORY_ONLY)
        log(f"{cached[parts].count()} rows cached on {parts} partitions")
    lines.unpersist()
    settings = [(conf_parts, b) for b in args.batches] + [(n, conf_batch) for n in args.partitions if n != conf_parts]
    run_once(spark, cached[conf_parts], conf_batch, rules, spec)  # warm-up: workers, jieba dictionary
    runs: dict[str, list[dict]] = {f"partitions={n},batch={b}": [] for n, b in settings}
    for rep in range(args.repeats):
        for n, b in settings:
            r = run_once(spark, cached[n], b, rules, spec)
            runs[f"partitions={n},batch={b}"].append(r)
            log(f"repeat {rep + 1}: partitions={n} batch={b}: {r}")
    checksums = {json.dumps(r["checksum"]) for rs in runs.values() for r in rs}
    summary = summarise(runs)
    result = {
        "issue": 7,
        "spark": {"version": spark.version, "master": spark.sparkContext.master},
        "corpus": f"{args.rows} non-empty lines (first by xxhash64 of the text) of "
        f"bench.generators.scale_corpus.scale_near x{args.factor}, seed {args.seed}",
        "work": "pipelines.clean.apply_rules (configured rules) + reviewlake.text.segment.tokens_column, one aggregate",
        "configured": {"partitions": conf_parts, "batch": conf_batch},
        "outputs_identical": len(checksums) == 1,
        "summary": summary,
        "runs": runs,
    }
    print(json.dumps(summary, indent=1))
    rec.write(result, args.out)
    log(f"outputs identical across settings: {result['outputs_identical']}")
    spark.stop()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

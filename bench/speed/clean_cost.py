"""Benchmark (issue #32): what the platform-junk rules and the soft-signal scores add to the clean stage.

The clean stage's work, as ``clean_reviews`` does it (:func:`reviewlake.lake.clean.apply_rules`
with the text kept for the scores, :func:`reviewlake.text.signals.with_scores`, the per-rule counts
of :func:`reviewlake.lake.clean.rule_counts` in one aggregation), over the lines of the bundled
corpus scaled by :func:`bench.generators.scale_corpus.scale_near` (``--factor``), cached in the JVM
first, in one Spark session, three ways:

* ``before``: the configured rules without the four rules issue #32 added (``symbols_only``,
  ``system_default``, ``incentive_ad``, ``not_chinese``) and without the scores;
* ``rules``: the configured rules, without the scores;
* ``job``: the configured rules and the scores, what the job runs;
* ``before_with_scores``: ``before`` and the scores, so that ``job`` against it is what the rules
  add where the job runs them (the ``incentive_ad`` and ``not_chinese`` rules' UDFs share the
  scores' Python pass);
* with ``--per-rule``, ``before+<rule>``: ``before`` and one of the four rules, to say which costs;
* with ``--in-job``, ``job-<rule>``: ``job`` without one of the four rules, what that rule costs
  where the job runs it (beside the others and the scores).

Each way runs ``--repeats`` times, interleaved, after one warm-up of each; every run records wall
seconds and CPU seconds of the process tree (driver, JVM, Python workers). The denominator is the
rules and counts alone: the job's clean stage also reads bronze and holds its output, which all
three ways would share, so the ratios here are upper bounds of what the additions cost the stage.

Writes ``bench/results/<UTC date>-clean_cost.json``. Not a test.

    python -m bench.speed.clean_cost [--factor 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.generators.scale_corpus import scale_near
from bench.record import ROOT, Record, log
from bench.speed.timing import tree_cpu_seconds

ADDED_BY_32 = ("symbols_only", "system_default", "incentive_ad", "not_chinese")


def run_once(lines, rules, cfg, scores: bool) -> dict:
    """The rules (and the scores) over ``lines`` and their counts in one aggregation."""
    from pyspark.sql import functions as F

    from reviewlake.lake.clean import apply_rules, rule_counts
    from reviewlake.text.signals import SCORES, with_scores

    cleaned = apply_rules(lines, rules, measured="_measured" if scores else None)
    if scores:  # the filter keeps every row and makes Spark compute the scores, as the job's held frame does
        scored = with_scores(cleaned, "_measured", cfg.signals).drop("_measured")
        cleaned = scored.where(sum((F.col(name) for name in SCORES), F.lit(0.0)) >= 0)
    cpu0, t0 = tree_cpu_seconds(os.getpid()), time.perf_counter()
    rows, counts = rule_counts(cleaned, rules)
    wall, cpu = time.perf_counter() - t0, tree_cpu_seconds(os.getpid()) - cpu0
    removed = sum(c.get("removed", 0) for c in counts.values())
    return {"seconds": round(wall, 2), "cpu_seconds": round(cpu, 1), "rows": rows, "removed": removed}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factor", type=int, default=10)
    p.add_argument("--seed", type=int, default=20261127)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--conf", action="append", default=[], help="config override, KEY=VALUE")
    p.add_argument("--per-rule", action="store_true", help="also each added rule alone on top of before")
    p.add_argument("--in-job", action="store_true", help="also the job without each added rule")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    rec = Record("clean_cost")

    from reviewlake.core.config import load_config
    from reviewlake.core.spark import HELD, get_spark
    from reviewlake.lake.clean import build_rules

    cfg = load_config(overrides=args.conf)
    work = Path(tempfile.mkdtemp(prefix="reviewlake-clean-cost-"))
    log(f"x{args.factor}: scaling the corpus")
    scale_near(ROOT / "data" / "landing", work / "landing", args.factor, args.seed)
    spark = get_spark(cfg)
    lines = (
        spark.read.option("recursiveFileLookup", "true")
        .option("pathGlobFilter", "*.txt")
        .text(str(work / "landing"))
        .withColumnRenamed("value", "raw_text")
        .repartition(int(spark.conf.get("spark.sql.shuffle.partitions")))
        .persist(HELD)
    )
    log(f"{lines.count()} lines cached")
    rules = build_rules(cfg.clean)
    ways = {
        "before": ([r for r in rules if r.name not in ADDED_BY_32], False),
        "rules": (rules, False),
        "job": (rules, True),
        "before_with_scores": ([r for r in rules if r.name not in ADDED_BY_32], True),
    }
    if args.per_rule:
        for added in ADDED_BY_32:
            ways[f"before+{added}"] = ([r for r in rules if r.name not in ADDED_BY_32 or r.name == added], False)
    if args.in_job:
        for added in ADDED_BY_32:
            ways[f"job-{added}"] = ([r for r in rules if r.name != added], True)
    for name, (rs, scores) in ways.items():
        log(f"warm-up {name}: {run_once(lines, rs, cfg, scores)}")
    runs: dict[str, list[dict]] = {name: [] for name in ways}
    for rep in range(args.repeats):
        for name, (rs, scores) in ways.items():
            runs[name].append(run_once(lines, rs, cfg, scores))
            log(f"repeat {rep + 1} {name}: {runs[name][-1]}")
    cpu = {name: statistics.median(r["cpu_seconds"] for r in rs) for name, rs in runs.items()}
    wall = {name: statistics.median(r["seconds"] for r in rs) for name, rs in runs.items()}
    rec.write(
        {
            "issue": 32,
            "spark": {"version": spark.version, "master": spark.sparkContext.master},
            "corpus": f"bench.generators.scale_corpus.scale_near x{args.factor}, seed {args.seed}: its text lines",
            "ways": {name: {"rules": [r.name for r in rs], "scores": scores} for name, (rs, scores) in ways.items()},
            "median_cpu_seconds": cpu,
            "median_seconds": wall,
            "added_cpu_share": {
                "rules_over_before": round(cpu["rules"] / cpu["before"] - 1, 3),
                "scores_over_rules": round(cpu["job"] / cpu["rules"] - 1, 3),
                "job_over_before": round(cpu["job"] / cpu["before"] - 1, 3),
                # the rules' share where the job runs them: with the scores, whose Python pass the
                # not_chinese rule's UDF shares
                "rules_in_job": round(cpu["job"] / cpu["before_with_scores"] - 1, 3),
            },
            "added_cpu_seconds_in_job": {
                added: round(cpu["job"] - cpu[f"job-{added}"], 1) for added in ADDED_BY_32 if f"job-{added}" in cpu
            },
            "runs": runs,
        }
    )
    spark.stop()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: ingest + clean throughput of the Spark job against a single-process pandas script
running the same rules, on the bundled corpus scaled ``--factor`` times (default 10).

Writes ``bench/results/<UTC date>-ingest_clean.json``. Not a test: it asserts nothing about speed.

    python -m bench.speed.ingest_clean --factor 10
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from bench.generators.scale_corpus import scale
from bench.record import ROOT, Record
from reviewlake.core.settings import Clean
from reviewlake.lake.ingest_parse import detect_encoding
from reviewlake.text.clean_rules import python_forms


def pandas_rules(options: Clean) -> list[tuple[str, str, Callable[[pd.Series], pd.Series]]]:
    """The configured rules (``clean.rules``, in order) as pandas operations in one Python process:
    (name, kind, Series -> Series). Each maps the rule's Python form, declared once in
    :mod:`reviewlake.text.clean_rules` next to its Spark form (the same one serving runs), over the
    Series: a map rule gives the new texts, a filter whether each row is kept."""
    return [(rule.name, rule.kind, lambda s, form=form: s.map(form)) for rule, form in python_forms(options)]


def run_pandas(folder: Path, options: Clean) -> tuple[int, float, list[str]]:
    """Read, decode and clean every ``*.txt`` under ``folder``; returns (rows, seconds, kept texts
    of copy_0000). A filter sees the text as cleaned by the rules before it, as in the job."""
    start = time.perf_counter()
    frames = []
    for path in sorted(folder.rglob("*.txt")):
        content = path.read_bytes()
        lines = [line.strip() for line in content.decode(detect_encoding(content)).split("\n") if line.strip()]
        frames.append(pd.DataFrame({"raw_text": lines, "file": str(path.relative_to(folder))}))
    df = pd.concat(frames, ignore_index=True)
    text = df["raw_text"].fillna("")
    keep = pd.Series(True, index=df.index)
    for _, kind, rule in pandas_rules(options):
        if kind == "map":
            text = rule(text)
        else:
            keep &= rule(text).astype(bool)
    seconds = time.perf_counter() - start
    first = text[keep & df["file"].str.startswith("copy_0000/")]
    return len(df), seconds, first.tolist()


def run_spark(folder: Path, lake: Path) -> tuple[int, float, dict, list[str]]:
    """The job's own ingest and clean stages; returns (rows, seconds, stage seconds, kept texts of
    copy_0000)."""
    from pyspark.sql import functions as F

    from reviewlake.core import delta_io, tables
    from reviewlake.core.config import load_config
    from reviewlake.core.job import RunContext
    from reviewlake.core.spark import get_spark
    from reviewlake.jobs import clean_reviews
    from reviewlake.lake import clean
    from reviewlake.lake.bronze import IngestRequest

    cfg = load_config(overrides=[f"lakehouse={lake / 'lakehouse'}", f"reports_dir={lake / 'reports'}"])
    spark = get_spark(cfg)
    ctx = RunContext("bench_ingest_clean", cfg, write_report=False)
    report = ctx.report
    start = time.perf_counter()
    clean_reviews.ingest_landing(ctx, IngestRequest([str(folder)]))
    with report.stage("clean"):
        rules = clean.build_rules(cfg.clean)
        bronze = delta_io.read(spark, tables.uri(cfg, "bronze", "reviews_raw"))
        cleaned = clean.apply_rules(bronze, rules).persist()
        rows, _ = clean.rule_counts(cleaned, rules)
    seconds = time.perf_counter() - start
    first = [
        r.text
        for r in cleaned.where(F.col("filtered_by").isNull() & F.col("source_file").contains("/copy_0000/"))
        .select("text")
        .collect()
    ]
    return rows, seconds, {s.name: s.seconds for s in report.stages}, first


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factor", type=int, default=10)
    p.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp dir)")
    args = p.parse_args()
    rec = Record("ingest_clean")
    from reviewlake.core.config import load_config

    options = load_config().clean
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewlake-bench-"))
    folder = work / f"x{args.factor}"
    lines = scale(ROOT / "data" / "landing", folder, args.factor)
    spark_rows, spark_s, stages, spark_first = run_spark(folder, work)
    pandas_rows, pandas_s, pandas_first = run_pandas(folder, options)
    a, b = Counter(spark_first), Counter(pandas_first)
    agreement = sum((a & b).values()) / max(1, max(sum(a.values()), sum(b.values())))
    cores = os.cpu_count() or 1
    result = {
        "corpus": {"factor": args.factor, "lines": lines},
        "spark": {
            "master": "local[*]",
            "rows": spark_rows,
            "seconds": round(spark_s, 2),
            "rows_per_s": round(spark_rows / spark_s, 1),
            "rows_per_s_per_core": round(spark_rows / spark_s / cores, 1),
            "stage_seconds": stages,
        },
        "pandas_single_process": {
            "rows": pandas_rows,
            "seconds": round(pandas_s, 2),
            "rows_per_s": round(pandas_rows / pandas_s, 1),
        },
        "spark_over_pandas_throughput": round((spark_rows / spark_s) / (pandas_rows / pandas_s), 3),
        "kept_text_agreement_copy_0000": round(agreement, 4),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    rec.write(result)


if __name__ == "__main__":
    main()

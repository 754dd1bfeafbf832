"""Benchmark: ingest + clean throughput of the Spark job against a single-process pandas script
running the same rules, on the bundled corpus scaled ``--factor`` times (default 10).

Writes ``bench/results/<UTC date>-ingest_clean.json``. Not a test: it asserts nothing about speed.

    python -m bench.bench_ingest_clean --factor 10
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import tempfile
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from bench.scale_corpus import ROOT, scale
from reviewlake.text import clean_rules as R
from reviewlake.lake.ingest_parse import detect_encoding

RESULTS = ROOT / "bench" / "results"


def python_pattern(java: str) -> str:
    """A Java regex of clean_rules in Python ``re`` syntax (only ``\\x{...}`` differs there)."""
    return re.sub(r"\\x\{([0-9A-Fa-f]+)\}", lambda m: "\\U%08x" % int(m.group(1), 16), java)


def pandas_rules(options: dict) -> list[tuple[str, object]]:
    """The same ordered rules as pandas string operations (one Python process).

    Differences from Spark, on purpose small: ``punct_runs`` uses ``[^\\w\\s]`` for Java's
    ``[\\p{P}\\p{S}]`` (Python's ``re`` has no Unicode property classes)."""
    def sub(pattern: str, repl: str):
        compiled = re.compile(python_pattern(pattern))
        return lambda s: s.str.replace(compiled, repl, regex=True)

    strip = "|".join(f"(?:{p})" for p in options.get("strip_patterns") or []) or "(?!)"
    return [
        ("hz_decode", lambda s: s.map(R.decode_hz)),
        ("nfkc", lambda s: s.str.normalize("NFKC")),
        ("html", lambda s: s.map(R.strip_html)),
        ("t2s", lambda s: s.map(R.to_simplified)),
        ("email", sub(R.EMAIL, " [EMAIL] ")),
        ("url", sub(R.URL, " [URL] ")),
        ("id_number", sub(R.ID_NUMBER, " [ID] ")),
        ("phone", sub(R.PHONE, " [PHONE] ")),
        ("emoji", sub(R.EMOJI, " ")),
        ("emote", sub(R.EMOTE, r" \1 ")),
        ("boilerplate_prefix", sub(strip, " ")),
        ("punct_runs", sub(r"([^\w\s])\1+", r"\1")),
        ("repeat_phrase", sub(r"(.{2,10}?)\1{%d,}" % int(options["max_phrase_repeats"]),
                              r"\1" * int(options["max_phrase_repeats"]))),
        ("repeat_char", sub(r"(.)\1{%d,}" % int(options["max_char_run"]), r"\1" * int(options["max_char_run"]))),
        ("whitespace", lambda s: s.str.replace(r"[\s\u3000\u00a0\u200b]+", " ", regex=True).str.strip()),
    ]


def run_pandas(folder: Path, options: dict) -> tuple[int, float, list[str]]:
    """Read, decode and clean every ``*.txt`` under ``folder``; returns (rows, seconds, kept texts
    of copy_0000)."""
    start = time.perf_counter()
    frames = []
    for path in sorted(folder.rglob("*.txt")):
        content = path.read_bytes()
        lines = [line.strip() for line in content.decode(detect_encoding(content)).split("\n") if line.strip()]
        frames.append(pd.DataFrame({"raw_text": lines, "file": str(path.relative_to(folder))}))
    df = pd.concat(frames, ignore_index=True)
    text = df["raw_text"]
    for _, rule in pandas_rules(options):
        text = rule(text)
    cjk = re.compile(python_pattern("[^" + R.CJK + "]"))
    visible = text.str.replace(r"\s", "", regex=True).str.len()
    ratio = (text.str.replace(cjk, "", regex=True).str.len() / visible.where(visible > 0)).fillna(0.0)
    boiler = "|".join(f"(?:{p})" for p in options.get("boilerplate_patterns") or []) or "(?!)"
    keep = ((text.str.len() >= max(1, int(options["min_chars"]))) & (text.str.len() <= int(options["max_chars"]))
            & (ratio >= float(options["min_cjk_ratio"])) & ~text.str.contains(boiler, regex=True))
    seconds = time.perf_counter() - start
    first = text[keep & df["file"].str.startswith("copy_0000/")]
    return len(df), seconds, first.tolist()


def run_spark(folder: Path, lake: Path) -> tuple[int, float, dict, list[str]]:
    """The job's own ingest and clean stages; returns (rows, seconds, stage seconds, kept texts of
    copy_0000)."""
    from pyspark.sql import functions as F

    from reviewlake.lake import clean
    from reviewlake.jobs import clean_reviews
    from reviewlake.core import delta_io
    from reviewlake.core.config import load_config
    from reviewlake.core.report import RunReport
    from reviewlake.core.spark import get_spark

    cfg = load_config(overrides=[f"lakehouse={lake / 'lakehouse'}", f"reports_dir={lake / 'reports'}"])
    spark = get_spark(cfg)
    report = RunReport("bench_ingest_clean")
    start = time.perf_counter()
    clean_reviews.run_ingest(spark, cfg, [str(folder)], report)
    with report.stage("clean"):
        rules = clean.build_rules(cfg)
        bronze = delta_io.read(spark, delta_io.table_uri(cfg, "bronze", "reviews_raw"))
        cleaned = clean.apply_rules(bronze, rules).persist()
        rows, _ = clean.rule_counts(cleaned, rules)
    seconds = time.perf_counter() - start
    first = [r.text for r in cleaned.where(F.col("filtered_by").isNull() & F.col("source_file").contains("/copy_0000/"))
             .select("text").collect()]
    return rows, seconds, {s.name: s.seconds for s in report.stages}, first


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--factor", type=int, default=10)
    p.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp dir)")
    args = p.parse_args()
    from reviewlake.core.config import load_config

    options = dict(load_config()["clean"])
    work = args.work or Path(tempfile.mkdtemp(prefix="reviewlake-bench-"))
    folder = work / f"x{args.factor}"
    lines = scale(ROOT / "data" / "landing", folder, args.factor)
    spark_rows, spark_s, stages, spark_first = run_spark(folder, work)
    pandas_rows, pandas_s, pandas_first = run_pandas(folder, options)
    a, b = Counter(spark_first), Counter(pandas_first)
    agreement = sum((a & b).values()) / max(1, max(sum(a.values()), sum(b.values())))
    cores = os.cpu_count() or 1
    result = {
        "benchmark": "ingest_clean",
        "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": {"cores": cores, "python": platform.python_version(), "platform": platform.platform()},
        "corpus": {"factor": args.factor, "lines": lines},
        "spark": {"master": "local[*]", "rows": spark_rows, "seconds": round(spark_s, 2),
                  "rows_per_s": round(spark_rows / spark_s, 1), "rows_per_s_per_core": round(spark_rows / spark_s / cores, 1),
                  "stage_seconds": stages},
        "pandas_single_process": {"rows": pandas_rows, "seconds": round(pandas_s, 2),
                                  "rows_per_s": round(pandas_rows / pandas_s, 1)},
        "spark_over_pandas_throughput": round((spark_rows / spark_s) / (pandas_rows / pandas_s), 3),
        "kept_text_agreement_copy_0000": round(agreement, 4),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{datetime.now(timezone.utc):%Y-%m-%d}-ingest_clean.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"written: {out}")


if __name__ == "__main__":
    main()

"""Benchmark (issue #31): the fixed costs of an increment that would neither start Spark nor commit
through it, on this box: what a small ``clean_reviews`` increment would pay on the driver alone
before any work that grows with its rows. The counterpart of :mod:`bench.speed.delta_floor` (the
same costs through Spark). Nothing here is the product: no such path exists; these are the
pieces it would be made of, timed one after the other in one fresh Python process:

- ``interpreter_seconds``: ``python -c pass`` in a subprocess (the best of three);
- ``imports``: the settings (read and validated), delta-rs with pyarrow, GX with what a gate uses,
  jieba with its dictionary loaded and one review segmented;
- ``reads``: delta-rs reads of what an increment reads of the published tables, each table opened
  fresh: the file log whole, the dedupe index's probe columns, the ledger's batch ids, silver's
  ids and text hashes (the gate's clash check); Polars' import falls in the first;
- ``commits``: a delta-rs MERGE of 100 new rows into a copy of each table an increment writes, by
  the keys the job merges on (the operation ``delta_floor`` times through Spark);
- ``gate``: GX's pandas engine on ``--gate-rows`` rows of silver with silver's suite, the first
  call (GX's context) and a second.

The tables are copied from ``--lakehouse`` into a scratch folder first (``--keep`` keeps it and
prints where), so the source is never written. Writes ``bench/results/<UTC date>-driver_floor.json``
(or ``--out``). Not a test.

    python -m bench.speed.driver_floor --lakehouse /tmp/bench/lake
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.record import ROOT, Record, log

# the tables an increment writes -> the keys clean_reviews merges each by (bench.speed.delta_floor's too)
MERGE_KEYS = {
    "bronze/reviews_raw": ["review_id"],
    "bronze/files": ["source_file", "content_hash"],
    "silver/reviews": ["review_id"],
    "silver/dedupe_index": ["review_id"],
    "silver/disposition": ["review_id"],
}
# table -> the columns an increment reads of it (None: all)
READ = {
    "bronze/files": None,
    "silver/dedupe_index": ["review_id", "dup_cluster_id", "text_hash", "minhash_bands", "outcome"],
    "silver/disposition": ["batch_id"],
    "silver/reviews": ["review_id", "text_hash"],
}


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = action()
    return round(time.perf_counter() - t, 3), out


def interpreter_seconds() -> float:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        best = min(best, time.perf_counter() - t)
    return round(best, 3)


def imports(lakehouse: Path) -> tuple[dict[str, float], Any]:
    """Seconds of each import group, in order (each after the ones before); the settings."""
    out: dict[str, float] = {}

    def settings():
        from reviewlake.core.config import load_config

        return load_config(overrides=[f"lakehouse={lakehouse}"])

    out["settings"], cfg = timed(settings)
    out["deltalake_pyarrow"], _ = timed(lambda: __import__("deltalake") and __import__("pyarrow"))

    def gx():
        from reviewlake.quality import gate

        gate.warm_up()  # the import a job's gates start at its beginning, waited for here
        gate.wait_for_warm_up()

    out["great_expectations"], _ = timed(gx)

    def jieba():
        from reviewlake.text.segment import SegmenterSpec, segment_text

        return segment_text("这本书的内容很好，物流也很快。", SegmenterSpec.from_config(cfg.segment))

    out["jieba_first_segmentation"], _ = timed(jieba)
    return out, cfg


def read_table(uri: str, columns: list[str] | None = None, limit: int | None = None):
    """The table's rows as a pyarrow table, read by Polars (delta-rs underneath; it reads deletion
    vectors, which delta-rs's ``to_pyarrow_table`` refuses), in the arrow types pyarrow 14 knows."""
    import polars as pl

    frame = pl.scan_delta(uri)
    if columns:
        frame = frame.select(columns)
    if limit is not None:
        frame = frame.head(limit)
    return frame.collect().to_arrow(compat_level=pl.CompatLevel.oldest())


def reads(lake: Path) -> dict[str, dict]:
    out = {}
    for name, columns in READ.items():
        seconds, table = timed(lambda name=name, columns=columns: read_table(str(lake / name), columns))
        out[name] = {"seconds": seconds, "rows": table.num_rows, "columns": columns or "all"}
        log(f"read {name}: {out[name]}")
    return out


def commits(lake: Path, repeat: int) -> dict[str, dict]:
    """A MERGE of 100 rows the table does not hold yet (a suffixed key) into each table, and an
    append of 100 others, ``repeat`` times, each on the table opened fresh."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable, write_deltalake

    out = {}
    for name, keys in MERGE_KEYS.items():
        uri = str(lake / name)
        published = DeltaTable(uri).schema().to_arrow()
        sample = read_table(uri, limit=100).cast(pa.schema(published))
        key = keys[-1]

        def suffixed(suffix: str, sample=sample, key=key):
            column = pc.binary_join_element_wise(sample[key], pa.scalar(suffix), "")
            return sample.set_column(sample.schema.get_field_index(key), key, column)

        times, appends = [], []
        for i in range(repeat):
            new = suffixed(f"-floor{i}")
            predicate = " AND ".join(f"t.`{k}` = s.`{k}`" for k in keys)

            def merge(uri=uri, new=new, predicate=predicate):
                dt = DeltaTable(uri)
                merger = dt.merge(source=new, predicate=predicate, source_alias="s", target_alias="t")
                return merger.when_matched_update_all().when_not_matched_insert_all().execute()

            seconds, metrics = timed(merge)
            times.append(seconds)
            seconds, _ = timed(lambda uri=uri, i=i: write_deltalake(uri, suffixed(f"-append{i}"), mode="append"))
            appends.append(seconds)
        out[name] = {
            "rows": read_table(uri, [keys[0]]).num_rows,
            "merge_100_new_rows_seconds": times,
            "append_100_new_rows_seconds": appends,
            "last_metrics": {k: v for k, v in metrics.items() if k.startswith("num_")},
        }
        log(f"merge {name}: {times}, append: {appends}")
    return out


def gate_seconds(lake: Path, cfg, rows: int) -> dict[str, Any]:
    """GX's pandas engine on ``rows`` silver rows with silver's suite, twice."""
    from reviewlake.quality import gate
    from reviewlake.quality.suites import silver as silver_suite

    frame = read_table(str(lake / "silver/reviews"), limit=rows).to_pandas()
    frame["clashes_with"] = None
    frame["unknown_flag"] = None
    expectations = silver_suite.reviews(cfg)
    out: dict[str, Any] = {"rows": len(frame), "expectations": len(expectations)}
    for run in ("first", "second"):
        seconds, result = timed(lambda: gate.validate(frame, "silver_reviews", expectations, None))
        out[f"{run}_seconds"] = seconds
        out[f"{run}_success"] = result.success
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lakehouse", required=True, type=Path, help="a local lakehouse a clean_reviews run wrote")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument(
        "--gate-rows", type=int, default=371, help="rows the gate validates (371: the 1x one-file increment)"
    )
    p.add_argument("--keep", action="store_true", help="keep the scratch copies (their folder is logged)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    rec = Record("driver_floor")
    scratch = Path(tempfile.mkdtemp(prefix="reviewlake-driver-floor-"))
    try:
        for name in sorted(set(MERGE_KEYS) | set(READ)):
            shutil.copytree(args.lakehouse / name, scratch / name)
        result: dict[str, Any] = {"issue": 31, "source_lakehouse": str(args.lakehouse)}
        result["interpreter_seconds"] = interpreter_seconds()
        result["imports"], cfg = imports(scratch)
        result["reads"] = reads(scratch)
        result["commits"] = commits(scratch, args.repeat)
        result["gate"] = gate_seconds(args.lakehouse, cfg, args.gate_rows)  # rows as published
        result["floor_seconds"] = round(
            result["interpreter_seconds"]
            + sum(result["imports"].values())
            + sum(r["seconds"] for r in result["reads"].values())
            + sum(c["merge_100_new_rows_seconds"][0] for c in result["commits"].values())
            + result["gate"]["first_seconds"]
            + result["gate"]["second_seconds"],  # two suites (silver's, the ledger's), the second warm
            2,
        )
        log(f"floor: {result['floor_seconds']} s")
    finally:
        if args.keep:
            log(f"kept the copies under {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    rec.write(result, args.out)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()

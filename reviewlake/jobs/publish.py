"""Write -> audit -> publish: stage a DataFrame as Delta, run its GX suite, then publish it.

Staged outputs are Delta tables under ``<lakehouse>/_staging/<run_id>/<name>``; the published
table is only written after every suite of the job passed, so downstream jobs never read a failed
version. Staging is removed after a successful publish and kept (for inspection) after a failed
gate.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Sequence

from pyspark.sql import DataFrame, SparkSession

from reviewlake.core import delta_io, storage
from reviewlake.core.config import Config, local_path, to_uri
from reviewlake.quality import gate


@dataclass
class Staged:
    name: str
    uri: str
    df: DataFrame


class Stager:
    """Stages the outputs of one run, audits them, then publishes them together."""

    def __init__(self, spark: SparkSession, cfg: Config, run_id: str):
        self.spark = spark
        self.cfg = cfg
        self.root = f"{to_uri(cfg['lakehouse']).rstrip('/')}/_staging/{run_id}"
        self.docs_dir = (local_path(to_uri(cfg["reports_dir"])) / "data_docs"
                         if cfg["quality.data_docs"] else None)
        self.gates: list[gate.GateResult] = []

    def stage(self, name: str, df: DataFrame) -> Staged:
        """Write ``df`` once to staging and return it re-read from there (stable, not recomputed).

        Delta, although a staged output only needs Parquet: plain Parquet staging saved ~10 Spark
        jobs and 1-2 s per output here, but made ``clean_reviews`` hang on HDFS (a job with no
        task running, tests/system/test_hdfs_storage.py; cause not found: see bench/README.md,
        "Fixed costs"), so it is not used until that is understood."""
        uri = f"{self.root}/{name.replace('.', '/')}"
        delta_io.overwrite(df, uri)
        return Staged(name, uri, delta_io.read(self.spark, uri))

    def audit(self, staged: Staged, expectations: Sequence, view: Callable[[DataFrame], DataFrame] | None = None) -> None:
        """Run the GX suite on the staged table (optionally through ``view``); raise if it fails."""
        if not self.cfg["quality.enabled"]:
            return
        df = view(staged.df) if view else staged.df
        self.gates.append(gate.require(df, staged.name.replace(".", "_"), expectations, self.docs_dir))

    def audit_rows(self, table: str, rows: int, min_rows: int) -> None:
        """Check that ``table`` will hold at least ``min_rows`` rows (``rows``: its count after the
        run, which the job already has); raise if not."""
        if not self.cfg["quality.enabled"]:
            return
        self.gates.append(gate.require_rows(table, rows, min_rows))

    def discard(self) -> None:
        storage.delete(self.spark, self.root)


def commit_metadata(**values) -> str:
    """JSON for Delta's ``userMetadata`` commit field (read back by :func:`read_commit_metadata`)."""
    return json.dumps(values, sort_keys=True, default=str)


def read_commit_metadata(spark: SparkSession, uri: str) -> dict:
    """``userMetadata`` of the table's latest data-changing commit as a dict ({} if absent):
    maintenance commits (OPTIMIZE, VACUUM) are skipped."""
    _, meta = delta_io.last_data_commit(spark, uri)
    try:
        return json.loads(meta) if meta else {}
    except ValueError:
        return {}

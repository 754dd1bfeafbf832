"""Write -> audit -> publish: compute a run's outputs once, run their GX suites, then publish them.

A staged output is computed once and kept for the rest of the run (a Spark local checkpoint:
its rows held by the executors, MEMORY_AND_DISK, its lineage cut), so the audit, the run's figures
and the publish read the same rows without recomputing them. The published tables are only
written after every suite of the job passed, so downstream jobs never read a failed version. An
output whose suite fails is written as a Delta table under
``<lakehouse>/_staging/<run_id>/<name>`` for inspection; a successful publish leaves nothing.
A :class:`Stager` is a context manager: leaving its block, however (published, failed gate,
error), releases what it held, so a driver that runs the next job of a chain keeps no blocks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pyspark.sql import DataFrame

from reviewlake.core import delta_io, tables
from reviewlake.core.job import RunContext
from reviewlake.core.spark import HELD
from reviewlake.errors import QualityGateError
from reviewlake.quality import gate

log = logging.getLogger(__name__)


@dataclass
class Staged:
    name: str
    uri: str
    df: DataFrame


class Stager:
    """Stages the outputs of one run, audits them, then publishes them together."""

    def __init__(self, ctx: RunContext):
        self.spark = ctx.spark
        self.quality = ctx.cfg.quality
        self.root = tables.under(ctx.cfg, "_staging", ctx.run_id)
        self.docs_dir = ctx.cfg.reports_path / "data_docs" if self.quality.data_docs else None
        self.gates: list[gate.GateResult] = []
        self._held: list[DataFrame] = []

    def __enter__(self) -> Stager:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.discard()
        except Exception:  # e.g. the session died with the run: keep the run's own error
            if exc_type is None:
                raise
            log.warning("could not release the staged outputs", exc_info=True)

    def stage(self, name: str, df: DataFrame) -> Staged:
        """Compute ``df`` once and return it held for the rest of the run (stable, not recomputed).

        Held, not written: a Delta table per staged output cost ~10 Spark jobs and 1-3 s each
        (write, commit, snapshot of the re-read; bench/results/2026-12-02-fixed_costs_*.json), for files that
        only a failed gate needs. A lost executor fails the run instead of recomputing the rows
        (Spark's local checkpoint); the run is then rerun like any failed run."""
        uri = f"{self.root}/{name.replace('.', '/')}"
        held = df.localCheckpoint(eager=True, storageLevel=HELD)
        self._held.append(held)
        return Staged(name, uri, held)

    def audit(
        self,
        staged: Staged,
        expectations: Sequence,
        view: Callable[[DataFrame], DataFrame] | None = None,
        rows: int | None = None,
    ) -> None:
        """Run the GX suite on the staged output (optionally through ``view``); if it fails, write
        the output to its staging URI for inspection and raise. An output of ``rows`` rows at most
        ``quality.pandas_max_rows`` (the caller's count; None: unknown) is validated by GX's pandas
        engine on the driver, the columns the suite reads collected in one Spark job; a larger
        one by GX's Spark engine, a Spark job or more per expectation."""
        if not self.quality.enabled:
            return
        df = view(staged.df) if view else staged.df
        if rows is not None and rows <= self.quality.pandas_max_rows:
            df = df.select(*(gate.columns_read(expectations) or df.columns)).toPandas()
        try:
            self.gates.append(gate.require(df, staged.name.replace(".", "_"), expectations, self.docs_dir))
        except QualityGateError:
            delta_io.overwrite(staged.df, staged.uri)
            raise

    def audit_rows(self, table: str, rows: int, min_rows: int) -> None:
        """Check that ``table`` will hold at least ``min_rows`` rows (``rows``: its count after the
        run, which the job already has); raise if not."""
        if not self.quality.enabled:
            return
        self.gates.append(gate.require_rows(table, rows, min_rows))

    def keep_only(self, kept: Iterable[Staged]) -> None:
        """Release every held output but ``kept`` (intermediates no later step reads)."""
        keep = {id(s.df) for s in kept}
        for held in [h for h in self._held if id(h) not in keep]:
            _release(held)
            self._held.remove(held)

    def discard(self) -> None:
        """Release the held outputs (what a failed gate wrote under staging stays); called when
        the ``with`` block ends."""
        for held in self._held:
            _release(held)
        self._held.clear()


def held_rdd(held: DataFrame):
    """The (JVM) RDD whose persisted blocks are the rows of a staged output (a local checkpoint)."""
    return held._jdf.queryExecution().logical().rdd()


def _release(held: DataFrame) -> None:
    # DataFrame.unpersist (the cache manager's) does not free a local checkpoint's blocks
    held_rdd(held).unpersist(False)

"""The quality gate: run a GX 1.x expectation suite on a staged DataFrame; write Data Docs.

``validate`` returns the verdict; ``require`` raises :class:`QualityGateError` (naming the failed
expectations and the Data Docs page) when a suite fails, which the jobs turn into a non-zero exit
before anything is published.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from reviewlake.core.job import RunContext
from reviewlake.errors import QualityGateError

log = logging.getLogger(__name__)


@dataclass
class GateResult:
    suite: str
    success: bool
    failed: list[str] = field(default_factory=list)
    evaluated: int = 0
    docs_page: str | None = None

    def summary(self) -> str:
        verdict = "passed" if self.success else "FAILED"
        text = f"GX suite {self.suite} {verdict} ({self.evaluated} expectations)"
        if self.failed:
            text += ": " + "; ".join(self.failed)
        if self.docs_page:
            text += f" | Data Docs: {self.docs_page}"
        return text


_contexts: dict[str, object] = {}
_warm_up: threading.Thread | None = None


def warm_up() -> None:
    """Start importing GX in a background thread (once per process), so that the ~5 s the import
    costs (measured on this project's 2-core box) overlap a job's first Spark work, during which
    the driver's Python only waits, instead of delaying its first gate. A gate that starts before
    the import ends waits for it (Python's import lock)."""
    global _warm_up
    if _warm_up is None:
        _warm_up = threading.Thread(target=_import_gx, name="gx-warm-up", daemon=True)
        _warm_up.start()


def warm_up_for(ctx: RunContext) -> None:
    """:func:`warm_up` when the run's gates are on, waited for when the run ends."""
    if ctx.cfg.quality.enabled:
        warm_up()
        ctx.on_close(wait_for_warm_up)


def wait_for_warm_up() -> None:
    """Wait until a started warm-up has finished. A job calls this before it returns, so that a
    run with nothing to gate never leaves the interpreter to exit in the middle of the import."""
    if _warm_up is not None:
        _warm_up.join()


def _import_gx() -> None:
    import great_expectations
    import great_expectations.expectations  # noqa: F401
    from great_expectations.checkpoint import UpdateDataDocsAction  # noqa: F401


def _context(docs_dir: Path | None):
    """One ephemeral GX context per process and Data Docs folder (``None``: no Data Docs site),
    with progress bars off."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    key = str(docs_dir)
    if key not in _contexts:
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        if docs_dir is None:
            _contexts[key] = ctx
            return ctx
        ctx.add_data_docs_site(
            site_name="reviewlake",
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": key},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        _contexts[key] = ctx
    return _contexts[key]


def _describe(result) -> str:
    cfg = result.expectation_config
    kwargs = {k: v for k, v in cfg.kwargs.items() if k not in ("batch_id",)}
    observed = result.result.get("observed_value", result.result.get("unexpected_count"))
    return f"{cfg.type}({', '.join(f'{k}={v}' for k, v in kwargs.items())}) observed={observed}"


def validate(df: Any, suite_name: str, expectations: Sequence, docs_dir: Path | None) -> GateResult:
    """Validate ``df`` (a Spark or a pandas DataFrame: GX's Spark or pandas engine) against
    ``expectations`` as suite ``suite_name``; Data Docs in ``docs_dir`` (``None``: the verdict
    only, no Data Docs written).

    Without Data Docs the suite runs with GX's ``BOOLEAN_ONLY`` result format (half the Spark
    jobs of ``SUMMARY``, measured: 14 instead of 28 for the silver suite), and only a failed suite
    is run again with ``SUMMARY`` to name what failed and what was observed."""
    result_format = "SUMMARY" if docs_dir is not None else "BOOLEAN_ONLY"
    result = _run_suite(df, suite_name, expectations, docs_dir, result_format)
    if not result.success and result_format != "SUMMARY":
        result = _run_suite(df, suite_name, expectations, docs_dir, "SUMMARY")
    (log.info if result.success else log.error)(result.summary())
    return result


def _run_suite(
    df: Any, suite_name: str, expectations: Sequence, docs_dir: Path | None, result_format: str
) -> GateResult:
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction

    if docs_dir is not None:
        docs_dir.mkdir(parents=True, exist_ok=True)
    ctx = _context(docs_dir)
    on_spark = not isinstance(df, pd.DataFrame)
    sources = ctx.data_sources
    source = (
        sources.add_or_update_spark(name="reviewlake")
        if on_spark
        else sources.add_or_update_pandas(name="reviewlake_pandas")
    )
    asset = source.add_dataframe_asset(name=suite_name)
    batch = asset.add_batch_definition_whole_dataframe(f"{suite_name}-batch")
    # copies: GX binds an expectation to the first suite it joins, and a failed suite is run again
    suite = ctx.suites.add_or_update(
        gx.ExpectationSuite(name=suite_name, expectations=[copy.copy(e) for e in expectations])
    )
    # named per data source: a stored definition is looked up by name and resolves its asset in
    # the source it was made with, so a suite validated by one engine and later by the other in
    # the same process (a change set over and then under quality.pandas_max_rows) needs one each
    definition = ctx.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"{source.name}-{suite_name}-validation", data=batch, suite=suite)
    )
    checkpoint = ctx.checkpoints.add_or_update(
        gx.Checkpoint(
            name=f"{source.name}-{suite_name}-checkpoint",
            validation_definitions=[definition],
            actions=[]
            if docs_dir is None
            else [UpdateDataDocsAction(name="update_data_docs", site_names=["reviewlake"])],
            result_format=result_format,
        )
    )
    run = checkpoint.run(batch_parameters={"dataframe": df})
    failed: list[str] = []
    evaluated = 0
    docs_page = None
    for identifier, suite_result in run.run_results.items():
        evaluated += len(suite_result.results)
        failed += [_describe(r) for r in suite_result.results if not r.success]
        if docs_dir is not None:
            urls = ctx.get_docs_sites_urls(resource_identifier=identifier, site_names=["reviewlake"])
            docs_page = next((u["site_url"] for u in urls if u.get("site_url")), docs_page)
    # The suite's object is reused across calls in this process: drop it so that a later
    # validation of the same name starts from its own expectations only.
    source.delete_asset(suite_name)
    # GX persists the validated frame (SparkDFExecutionEngine persist=True). Left cached, its
    # plan would be re-cached by every later Delta MERGE into a table it reads, and fail once
    # its staging table is gone (DELTA_SCHEMA_CHANGE_SINCE_ANALYSIS in a long-lived session).
    if on_spark:
        df.unpersist()
    return GateResult(suite_name, bool(run.success), failed, evaluated, docs_page)


def require_rows(table: str, rows: int, min_rows: int) -> GateResult:
    """The table-level row-count expectation of a gate, checked on a count the job already holds
    (its invariant's figures) instead of by a suite that would read the whole table again; raise
    :class:`QualityGateError` when ``table`` would hold fewer than ``min_rows`` rows."""
    ok = rows >= min_rows
    failed = [] if ok else [f"expect_table_row_count_to_be_between(min_value={min_rows}) observed={rows}"]
    result = GateResult(f"{table.replace('.', '_')}_rows", ok, failed, evaluated=1)
    (log.info if ok else log.error)(result.summary())
    if not ok:
        raise QualityGateError(result.summary())
    return result


def columns_read(expectations: Sequence) -> list[str]:
    """The columns ``expectations`` look at (a table-level expectation reads none)."""
    return sorted({e.column for e in expectations if getattr(e, "column", None)})


def require(df: Any, suite_name: str, expectations: Sequence, docs_dir: Path | None) -> GateResult:
    """Like :func:`validate`, but raise :class:`QualityGateError` when the suite fails."""
    result = validate(df, suite_name, expectations, docs_dir)
    if not result.success:
        raise QualityGateError(result.summary())
    return result

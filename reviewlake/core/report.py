"""The run report: per-stage rows in/out, per-rule counts and seconds; logged and written as JSON."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("reviewlake.report")


def new_run_id() -> str:
    """Sortable, unique run id: UTC timestamp plus a short random suffix."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


@dataclass
class StageResult:
    name: str
    seconds: float = 0.0
    rows_in: int | None = None
    rows_out: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    spark_jobs: int | None = None  # Spark jobs the stage started (when the run is watched)
    peak_heap_mib: float | None = None  # the driver JVM's heap peak during the stage (when watched)


@dataclass
class RunReport:
    job: str
    run_id: str = field(default_factory=new_run_id)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    stages: list[StageResult] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    _work: Any = field(default=None, repr=False)

    def watch(self, spark: Any, tables: Mapping[str, str]) -> None:
        """Count this run's Spark jobs and the Delta commits of ``tables`` (``{name: uri}``) until
        :meth:`write`; see :mod:`reviewlake.core.spark_work`."""
        from reviewlake.core.spark_work import SparkWork

        self._work = SparkWork(spark, self.run_id, tables).start()

    @contextmanager
    def stage(self, name: str) -> Iterator[StageResult]:
        """Time a stage; the body fills rows_in/rows_out/detail of the yielded result."""
        result = StageResult(name)
        start = time.perf_counter()
        jobs_before = self._work.jobs_so_far() if self._work is not None else None
        if self._work is not None:
            self._work.reset_heap_peak()
        log.debug("[%s] %s ...", self.job, name)  # the one INFO line per stage is its end, with figures
        failed = False
        try:
            yield result
        except BaseException:
            failed = True
            raise
        finally:
            result.seconds = round(time.perf_counter() - start, 3)
            if jobs_before is not None and self._work is not None:
                jobs = self._spark_figure(self._work.jobs_so_far, failed)
                result.spark_jobs = None if jobs is None else jobs - jobs_before
                result.peak_heap_mib = self._spark_figure(self._work.heap_peak_mib, failed)
            self.stages.append(result)
            log.info(
                "[%s] %s: in=%s out=%s %.1fs%s %s",
                self.job,
                name,
                result.rows_in,
                result.rows_out,
                result.seconds,
                "" if result.spark_jobs is None else f" jobs={result.spark_jobs}",
                _fmt(result.detail),
            )

    def _spark_figure(self, ask: Any, failed: bool) -> Any:
        """``ask()``, Spark's figures for the report. In a run that is failing (``failed``) None if
        Spark cannot answer (its JVM died under the run, out of memory): the report is written all
        the same, and the run's own error, not this one, is what the job reports."""
        if not failed:
            return ask()
        try:
            return ask()
        except Exception as exc:  # noqa: BLE001 - bookkeeping of a failed run: never its reason
            log.warning("[%s] Spark's figures are not in the report: %s", self.job, type(exc).__name__)
            return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "run_id": self.run_id,
            "started_at": self.started_at,
            "seconds_total": round(sum(s.seconds for s in self.stages), 3),
            "stages": [s.__dict__ for s in self.stages],
            "summary": self.summary,
        }

    def table(self) -> str:
        """The per-stage summary as an aligned text table (rows in/out, seconds, details)."""
        lines = [f"{'stage':<16}{'rows in':>10}{'rows out':>10}{'seconds':>9}{'jobs':>6}{'heap MiB':>9}  detail"]

        def fmt(v: Any) -> str:
            return "-" if v is None else str(v)

        for s in self.stages:
            lines.append(
                f"{s.name:<16}{fmt(s.rows_in):>10}{fmt(s.rows_out):>10}{s.seconds:>9.1f}{fmt(s.spark_jobs):>6}"
                f"{fmt(s.peak_heap_mib):>9}  " + json.dumps(s.detail, ensure_ascii=False, default=str)[:300]
            )
        return "\n".join(lines)

    def path(self, reports_dir: Path) -> Path:
        """Where :meth:`write` writes the report: ``<reports_dir>/runs/<job>/<run_id>.json``."""
        return reports_dir / "runs" / self.job / f"{self.run_id}.json"

    def write(self, reports_dir: Path, failed: bool = False) -> Path:
        """Write the report under ``reports_dir``; ``failed``: the run is ending with an error."""
        if self._work is not None:
            self.summary["spark"] = self._spark_figure(self._work.finish, failed)
            self._work = None
        spark = self.summary.get("spark")
        totals = f": {spark['jobs']} Spark jobs, {spark['delta_commits_total']} Delta commits" if spark else ""
        out = self.path(reports_dir)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        latest = out.parent / "latest.json"
        latest.write_text(out.read_text(encoding="utf-8"), encoding="utf-8")
        log.info("[%s] summary%s\n%s\nreport: %s", self.job, totals, self.table(), out)
        return out


def _fmt(detail: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in detail.items()) if detail else ""

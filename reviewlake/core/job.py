"""What every job shares, written once: a job is declared as a :class:`Job` (its name, its own
command-line options, its start-up checks, its body), and :meth:`Job.main` does the rest: parse the
command line, configure logging, load and check the settings, hold the job's run lock, give the
body a :class:`RunContext` (settings, run id, run report, the Spark session on first use), write
the run report however the body ends, and turn the outcome into the documented exit code
(:mod:`reviewlake.errors`) with one line on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from reviewlake.core import cli, lineage
from reviewlake.core.lock import job_lock
from reviewlake.core.report import RunReport, StageResult, new_run_id
from reviewlake.core.settings import Settings
from reviewlake.errors import exit_status


class RunContext:
    """One run of a job: its settings, run id and report, and the Spark session (started on first
    use, so a run that finds nothing to do never starts one; from then on the session's lineage
    events carry the run id, and the report says where they go: :mod:`reviewlake.core.lineage`).
    Used as a context manager: leaving it runs the registered closers (:meth:`on_close`), waits for
    the run's lineage events and writes the run report under ``reports_dir``, whether the body
    succeeded or not."""

    def __init__(self, job: str, cfg: Settings, run_id: str | None = None, write_report: bool = True):
        self.job, self.cfg = job, cfg
        self.report = RunReport(job, run_id=run_id or new_run_id())
        self._write_report = write_report
        self._spark: Any = None
        self._lineage: lineage.RunLineage | None = None
        self._closers: list[Callable[[], None]] = []

    @property
    def run_id(self) -> str:
        return self.report.run_id

    @property
    def spark(self) -> Any:
        """The job's Spark session (this process's active one, or a new one from the settings)."""
        if self._spark is None:
            from reviewlake.core.spark import get_spark

            self._spark = get_spark(self.cfg)
            report = str(self.report.path(self.cfg.reports_path)) if self._write_report else None
            self._lineage = lineage.start_run(self._spark, self.job, self.run_id, report)
        return self._spark

    def watch(self, tables: Mapping[str, str]) -> None:
        """Count the run's Spark jobs and the Delta commits of ``tables`` (``{name: uri}``) in its report."""
        self.report.watch(self.spark, tables)

    def step(self, name: str) -> contextlib.AbstractContextManager[StageResult]:
        """Time a named step of the run (seconds, Spark jobs, rows in and out: the run report)."""
        return self.report.stage(name)

    def on_close(self, closer: Callable[[], None]) -> None:
        """Call ``closer`` when the run ends (before its report is written)."""
        self._closers.append(closer)

    def __enter__(self) -> RunContext:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        failed = exc_type is not None
        for closer in self._closers:
            closer()
        if self._lineage is not None:
            self.report.summary["lineage"] = lineage.end_run(self._spark, self._lineage, failed=failed)
        if self._write_report:
            self.report.write(self.cfg.reports_path, failed=failed)


@dataclass(frozen=True)
class Job:
    """A job's declaration. ``body(ctx, args)`` does the job's work; ``options`` adds the job's own
    command-line options to the shared ones (:func:`reviewlake.core.cli.parser`) and ``overrides``
    turns those that set a setting into ``key=value`` overrides; ``check`` makes the start-up checks
    the settings schema cannot (before the lock or any Spark work)."""

    name: str
    description: str
    body: Callable[[RunContext, argparse.Namespace], Any]
    options: Callable[[argparse.ArgumentParser], None] | None = None
    overrides: Callable[[argparse.Namespace], list[str]] | None = None  # job options that set settings
    check: Callable[[Settings], None] | None = None
    with_input: bool = False  # the job takes --input (landing files)
    lock: bool = True  # hold the job's run lock on the lakehouse while it runs
    report: bool = True  # write a run report under reports_dir

    def parser(self) -> argparse.ArgumentParser:
        p = cli.parser(self.description, with_input=self.with_input)
        if self.options is not None:
            self.options(p)
        return p

    def main(self, argv: list[str] | None = None) -> int:
        """Run the job from the command line ``argv``; returns its exit code."""
        args = self.parser().parse_args(argv)
        cli.setup_logging(args.verbose)
        log = logging.getLogger(self.name)
        try:
            cfg = cli.config_from_args(args, self.overrides(args) if self.overrides else [])
            if self.check is not None:
                self.check(cfg)
            ctx = RunContext(self.name, cfg, write_report=self.report)
            with self._lock(ctx), ctx:
                self.body(ctx, args)
            return 0
        except Exception as exc:  # every failure: one line on stderr, the traceback in the debug log
            log.debug("failure", exc_info=True)
            code, reason = exit_status(exc)
        log.error("%s failed: %s", self.name, reason)
        print(f"{self.name}: error: {reason}", file=sys.stderr)
        return code

    def _lock(self, ctx: RunContext) -> contextlib.AbstractContextManager:
        if not self.lock:
            return nullcontext()
        return job_lock(ctx.cfg, self.name, ctx.run_id, lambda: ctx.spark)

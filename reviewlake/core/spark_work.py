"""What one run asks of Spark and Delta, counted rather than read from the code: the Spark jobs it
started and the Delta commits it made per table. The run report carries both (``summary.spark``).

* **Spark jobs** come from Spark's status tracker (fed by its ``AppStatusListener``, UI or not):
  the run's thread gets a job group named after the run id, and every job submitted under it,
  Delta's own log-replay and checkpoint jobs included, is counted at the end. The tracker keeps
  the newest ``spark.ui.retainedJobs`` jobs (1,000 by default): a run with more is reported as
  at least that many.
* **Heap peaks** of the driver JVM per stage (the JVM's memory pool beans, reset when a stage
  starts): in local mode the tasks run in it too, so this is what ``--driver-memory`` must hold.
* **Delta commits** are the new ``_delta_log/<version>.json`` files of each table the run may
  write, listed through Hadoop FileSystem before and after (no Spark job).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from reviewlake.core.storage import hadoop_fs
from reviewlake.core.uris import join

_COMMIT = re.compile(r"^(\d{20})\.json$")


def latest_commit(spark: Any, table_uri: str) -> int:
    """The newest commit version in the table's ``_delta_log``; -1 if there is none."""
    fs, path = hadoop_fs(spark, join(table_uri, "_delta_log"))
    if not fs.exists(path):
        return -1
    versions = [int(m.group(1)) for s in fs.listStatus(path) if (m := _COMMIT.match(s.getPath().getName()))]
    return max(versions, default=-1)


# what a commit's operation metrics say of the work it did (MERGE, WRITE, DELETE, OPTIMIZE...)
COMMIT_METRICS = (
    "numTargetRowsCopied",
    "numTargetRowsInserted",
    "numTargetRowsUpdated",
    "numTargetRowsDeleted",
    "numTargetFilesAfterSkipping",
    "numTargetBytesAfterSkipping",
    "numTargetFilesRemoved",
    "numTargetFilesAdded",
    "numTargetDeletionVectorsAdded",
    "numOutputRows",
    "numDeletedRows",
    "numCopiedRows",
    "numDeletionVectorsAdded",
    "scanTimeMs",
    "rewriteTimeMs",
    "executionTimeMs",
)


def commit_metrics(spark: Any, table_uri: str, version: int) -> dict[str, Any]:
    """The operation and operation metrics of one commit, read from its ``_delta_log`` file, and
    ``rowsInNewFiles``: the rows of the data files the commit wrote (an ``add`` of a path the
    commit does not also remove; a file re-added with a deletion vector was not rewritten, though a
    WRITE's ``numCopiedRows`` counts its rows). Absent where a written file has no row count."""
    fs, path = hadoop_fs(spark, join(table_uri, "_delta_log", f"{version:020d}.json"))
    stream = fs.open(path)
    try:
        text = spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()
    actions = [json.loads(line) for line in text.splitlines() if line.strip()]
    info = next((a["commitInfo"] for a in actions if "commitInfo" in a), {})
    metrics = info.get("operationMetrics") or {}
    out = {"version": version, "operation": info.get("operation")}
    out |= {k: int(metrics[k]) for k in COMMIT_METRICS if k in metrics}
    written = rows_in_new_files(actions)
    return out if written is None else out | {"rowsInNewFiles": written}


def rows_in_new_files(actions: list[dict]) -> int | None:
    """The rows of the data files a commit's ``actions`` wrote (see :func:`commit_metrics`)."""
    removed = {a["remove"]["path"] for a in actions if "remove" in a}
    rows = 0
    for add in (a["add"] for a in actions if "add" in a):
        if add["path"] in removed:
            continue
        count = json.loads(add.get("stats") or "{}").get("numRecords")
        if count is None:
            return None
        rows += int(count)
    return rows


class SparkWork:
    """Counts, from :meth:`start` to :meth:`finish`, the Spark jobs submitted by this thread and
    the Delta commits of ``tables`` (``{name: uri}``)."""

    def __init__(self, spark: Any, group: str, tables: Mapping[str, str]):
        self.spark, self.group, self.tables = spark, group, dict(tables)
        self.before: dict[str, int] = {}

    def start(self) -> SparkWork:
        self.before = {name: latest_commit(self.spark, uri) for name, uri in self.tables.items()}
        self.spark.sparkContext.setJobGroup(self.group, f"reviewlake run {self.group}")
        return self

    def jobs_so_far(self) -> int:
        """Spark jobs of this run until now (for per-stage counts)."""
        return len(self.spark.sparkContext.statusTracker().getJobIdsForGroup(self.group))

    def _heap_pools(self) -> list:
        jvm = self.spark.sparkContext._jvm
        heap = jvm.java.lang.management.MemoryType.HEAP
        return [p for p in jvm.java.lang.management.ManagementFactory.getMemoryPoolMXBeans() if p.getType() == heap]

    def reset_heap_peak(self) -> None:
        """Start measuring the driver JVM's heap peak afresh (where local mode runs the tasks too)."""
        for pool in self._heap_pools():
            pool.resetPeakUsage()

    def heap_peak_mib(self) -> float:
        """The heap peak since :meth:`reset_heap_peak`: the sum of each heap pool's peak, an upper
        bound of the whole heap's (the pools peak at different moments)."""
        return round(sum(p.getPeakUsage().getUsed() for p in self._heap_pools()) / 2**20, 1)

    def finish(self) -> dict[str, Any]:
        sc = self.spark.sparkContext
        jobs = len(sc.statusTracker().getJobIdsForGroup(self.group))
        sc._jsc.clearJobGroup()  # later work on this thread is not this run's
        after = {name: latest_commit(self.spark, uri) for name, uri in self.tables.items()}
        commits = {name: after[name] - self.before[name] for name in self.tables}
        return {
            "jobs": jobs,
            "delta_commits": {k: v for k, v in commits.items() if v},
            "delta_commits_total": sum(commits.values()),
            "delta_commit_metrics": {
                name: [
                    commit_metrics(self.spark, self.tables[name], v)
                    for v in range(self.before[name] + 1, after[name] + 1)
                ]
                for name in self.tables
                if commits[name]
            },
        }

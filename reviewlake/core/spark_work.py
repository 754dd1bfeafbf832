"""What one run asks of Spark and Delta, counted rather than read from the code: the Spark jobs it
started and the Delta commits it made per table. The run report carries both (``summary.spark``).

* **Spark jobs** come from Spark's status tracker (fed by its ``AppStatusListener``, UI or not):
  the run's thread gets a job group named after the run id, and every job submitted under it,
  Delta's own log-replay and checkpoint jobs included, is counted at the end. The tracker keeps
  the newest ``spark.ui.retainedJobs`` jobs (1,000 by default): a run with more is reported as
  at least that many.
* **Delta commits** are the new ``_delta_log/<version>.json`` files of each table the run may
  write, listed through Hadoop FileSystem before and after (no Spark job).
"""

from __future__ import annotations

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

    def finish(self) -> dict[str, Any]:
        sc = self.spark.sparkContext
        jobs = len(sc.statusTracker().getJobIdsForGroup(self.group))
        sc._jsc.clearJobGroup()  # later work on this thread is not this run's
        commits = {name: latest_commit(self.spark, uri) - self.before[name] for name, uri in self.tables.items()}
        return {
            "jobs": jobs,
            "delta_commits": {k: v for k, v in commits.items() if v},
            "delta_commits_total": sum(commits.values()),
        }

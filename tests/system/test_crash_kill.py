"""clean_reviews runs SIGKILLed at several points (mid-ingest, mid-compute, between the silver
commits) and then rerun end with the same tables as an uninterrupted run: nothing lost, nothing
twice. The kill is real: the whole spark-submit process group (JVM and Python driver) gets
SIGKILL when the job's log reaches the point. In process, after each of the six commits:
tests/integration/test_crash_recovery.py."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
from chispa import assert_df_equality

from reviewlake.jobs import clean_reviews
from tests.integration.helpers import CLEAN_REVIEWS_TABLES, comparable
from tests.system import submit as spark_submit

ROOT = Path(__file__).resolve().parents[2]
# regexes on the job's log: the kill lands right after the line is written
KILL_POINTS = {
    "after the bronze commit, before the file log": r"published \S+/bronze/reviews_raw$",
    "while silver is being computed": r"\[clean_reviews\] dedupe: in=",  # the stage before segment+stage
    "between the silver and ledger commits": r"published \S+/silver/dedupe_index$",
}


def submit(landing: Path, lake: Path, kill_at: str | None) -> int:
    """Run clean_reviews through spark-submit; with ``kill_at``, SIGKILL its process group as soon
    as a log line matches. Returns the exit code (negative signal number when killed)."""
    args = ["--input", str(landing), "--lakehouse", str(lake), "--conf", f"reports_dir={lake.parent / 'reports'}"]
    proc = spark_submit.popen("clean_reviews", args, ["--driver-memory", "2g"])
    pattern = re.compile(kill_at) if kill_at else None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if pattern and pattern.search(line.rstrip()):
            os.killpg(proc.pid, signal.SIGKILL)
            break
    code = proc.wait()
    if pattern:
        assert code == -signal.SIGKILL, (
            f"the run ended (exit {code}) before reaching {kill_at!r}:\n{''.join(seen[-20:])}"
        )
    return code


@pytest.fixture(scope="module")
def baseline(small_landing, tmp_path_factory):
    lake = tmp_path_factory.mktemp("crash_baseline") / "lake"
    assert (
        clean_reviews.main(
            [
                "--input",
                str(small_landing),
                "--lakehouse",
                str(lake),
                "--conf",
                f"reports_dir={lake.parent / 'reports'}",
            ]
        )
        == 0
    )
    return lake


def test_runs_killed_at_each_point_then_rerun_equal_an_uninterrupted_run(spark, small_landing, baseline, tmp_path):
    """One run killed at each point in turn, each starting from what the killed one before it left
    (and taking over its lock), then a run that completes."""
    lake = tmp_path / "lake"
    for pattern in KILL_POINTS.values():
        submit(small_landing, lake, pattern)
    assert submit(small_landing, lake, None) == 0
    for layer, name in CLEAN_REVIEWS_TABLES:
        assert_df_equality(
            comparable(spark, lake, layer, name),
            comparable(spark, baseline, layer, name),
            ignore_row_order=True,
            ignore_column_order=True,
            ignore_nullable=True,
        )

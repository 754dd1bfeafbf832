"""The nightly chain in one driver (``spark-submit pipelines/run_all.py``, the default): its driver
SIGKILLed in the middle of build_features, then the chain rerun, ends with the same silver and gold
tables as the jobs run one by one (the reference lakehouse, same input and settings), and scores
every silver row. The kill is real: the whole spark-submit process group."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from chispa import assert_df_equality

from reviewlake.core import delta_io
from tests.integration.helpers import comparable

ROOT = Path(__file__).resolve().parents[2]
KILL_AT = r"\[build_features\] split: in="  # its first stage has ended: mid-job, nothing published
COMPARED = (
    ("silver", "reviews"),
    ("silver", "disposition"),
    ("silver", "dedupe_index"),
    ("gold", "vocab"),
    ("gold", "labels"),
    ("gold", "features"),
)


def chain(args: list[str], kill_at: str | None = None) -> tuple[int, str]:
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ['PATH']}",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }
    cmd = [str(venv_bin / "spark-submit"), "--driver-memory", "2g", str(ROOT / "pipelines" / "run_all.py"), *args]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    pattern, seen = re.compile(kill_at) if kill_at else None, []
    for line in proc.stdout:
        seen.append(line)
        if pattern and pattern.search(line.rstrip()):
            os.killpg(proc.pid, signal.SIGKILL)
            break
    return proc.wait(), "".join(seen)


def test_a_chain_killed_mid_job_then_rerun_equals_the_jobs_run_one_by_one(spark, corpus_sample, trained_lake, tmp_path):
    lake = tmp_path / "lakehouse"
    args = [
        "--input",
        str(corpus_sample),
        "--lakehouse",
        str(lake),
        "--model-version",
        "latest",
        "--conf",
        f"reports_dir={tmp_path / 'reports'}",
        "--conf",
        f"models_dir={trained_lake.root / 'models'}",
    ]
    code, log = chain(args, KILL_AT)
    assert code == -signal.SIGKILL, f"the chain ended (exit {code}) before the kill point:\n{log[-3000:]}"
    assert "step 1/4 clean_reviews: exit 0" in log  # one driver: the first job finished inside it

    code, log = chain(args)
    assert code == 0, log[-3000:]
    assert "nightly chain done (one driver)" in log
    for layer, name in COMPARED:
        assert_df_equality(
            comparable(spark, lake, layer, name),
            comparable(spark, trained_lake.root / "lakehouse", layer, name),
            ignore_row_order=True,
            ignore_column_order=True,
            ignore_nullable=True,
        )
    silver = delta_io.read(spark, str(lake / "silver" / "reviews")).count()
    assert delta_io.read(spark, str(lake / "gold" / "predictions")).count() == silver > 0

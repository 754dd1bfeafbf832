"""A Spark JVM that runs out of memory ends the job with exit 52 and one line naming the setting to
raise, for real: the job under ``spark-submit --driver-memory 512m`` (Spark's least) on a landing
folder holding a 400 MiB CSV record (its task's OutOfMemoryError comes back to the driver in a
SparkException), and a job whose task's OutOfMemoryError makes Spark stop the JVM itself (exit 52)
under a Python driver that outlives it. The mapping of each exception shape:
tests/unit/test_exit_codes.py."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.system import submit

ROOT = Path(__file__).resolve().parents[2]
HEAP = "512m"  # Spark refuses a driver under 450 MiB


def test_a_task_out_of_memory_under_spark_submit_exits_52_naming_driver_memory(tmp_path):
    landing = tmp_path / "landing"
    landing.mkdir()
    with open(landing / "huge.csv", "wb") as f:  # one 400 MiB record: read whole, in one task
        f.write(b"text\n")
        for _ in range(400):
            f.write(b"x" * (1 << 20))
        f.write(b"\n")
    (landing / "pos.txt").write_text("很好的一本书，值得购买\n", encoding="utf-8")
    lake = tmp_path / "lake"
    args = ["--input", str(landing), "--lakehouse", str(lake), "--conf", f"reports_dir={tmp_path / 'reports'}"]
    proc = submit.run("clean_reviews", args, ["--driver-memory", HEAP])
    (line,) = submit.error_lines(proc.stdout, "clean_reviews")
    assert proc.returncode == 52, proc.stdout[-3000:]
    assert line.startswith("clean_reviews: error: out of memory: the Spark driver ran out of memory")
    assert "java.lang.OutOfMemoryError: Java heap space" in line and "--driver-memory (spark.driver.memory)" in line
    assert "Py4JJavaError" not in proc.stdout.split(line)[1]  # no trace after the line
    assert not (lake / "bronze").exists()  # stopped while reading: nothing published
    assert (tmp_path / "reports" / "runs" / "clean_reviews" / "latest.json").is_file()


PROBE = """
import sys
from pyspark.sql import SparkSession
from reviewlake.core.job import Job

# a session of Spark's least heap, started by this Python process (the JVM is its child)
builder = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false")
builder.config("spark.driver.memory", "{heap}").getOrCreate()

def body(ctx, args):
    with ctx.step("repeat"):  # a JVM-only task: its OutOfMemoryError makes Spark exit the JVM (52)
        ctx.spark.range(0, 2, 1, 2).selectExpr("length(repeat(cast(id as string), 900000000))").collect()

job = Job("probe", "a task out of memory", body, lock=False)
code = job.main(sys.argv[1:])
from pyspark import SparkContext
print("JVM exit", SparkContext._gateway.proc.wait(timeout=60))
sys.exit(code)
"""


def test_a_jvm_stopped_by_spark_on_a_task_out_of_memory_exits_52(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent(PROBE.format(heap=HEAP)), encoding="utf-8")
    args = ["--lakehouse", str(tmp_path / "lake"), "--conf", f"reports_dir={tmp_path / 'reports'}"]
    proc = subprocess.run(
        [sys.executable, str(script), *args], cwd=ROOT, env=submit.env(), capture_output=True, text=True, timeout=600
    )
    (line,) = submit.error_lines(proc.stderr, "probe")
    assert proc.returncode == 52, proc.stderr[-3000:]
    assert "JVM exit 52" in proc.stdout  # Spark's handler stopped it: the case the mapping names
    assert line.startswith("probe: error: out of memory: the Spark driver's JVM stopped under the job")
    assert "--driver-memory (spark.driver.memory)" in line
    assert (tmp_path / "reports" / "runs" / "probe" / "latest.json").is_file()  # the report despite the dead JVM

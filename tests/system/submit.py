"""spark-submit of an entry script from a test, the way a user runs it: the venv's spark-submit on
PATH, the venv's Python for the driver and the workers, the repository as working directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def env() -> dict[str, str]:
    """This process's environment with the venv's ``bin`` first and its Python for PySpark."""
    venv_bin = Path(sys.executable).parent
    return {
        **os.environ,
        "PATH": f"{venv_bin}:{os.environ['PATH']}",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
    }


def command(job: str, args: list[str], submit_args: list[str] = ()) -> list[str]:
    """``spark-submit [submit_args] pipelines/<job>.py [args]``."""
    spark_submit = str(Path(sys.executable).parent / "spark-submit")
    return [spark_submit, *submit_args, str(ROOT / "pipelines" / f"{job}.py"), *args]


def popen(job: str, args: list[str], submit_args: list[str] = ()) -> subprocess.Popen:
    """Start the job in a process group of its own; its stdout carries the driver's stderr too
    (spark-submit merges them)."""
    return subprocess.Popen(
        command(job, args, submit_args),
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def run(job: str, args: list[str], submit_args: list[str] = ()) -> subprocess.CompletedProcess:
    """Run the job to its end; ``stdout`` holds both of its streams."""
    cmd = command(job, args, submit_args)
    return subprocess.run(cmd, cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def error_lines(output: str, job: str) -> list[str]:
    """The job's one-line errors (``<job>: error: …``) in its output."""
    return [line for line in output.splitlines() if line.startswith(f"{job}: error: ")]

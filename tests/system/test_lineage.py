"""Lineage and console output of real job runs: the nightly chain in one driver, as ``make demo``
runs it (``spark-submit pipelines/run_all.py --train``), on the corpus sample with lineage to a file,
then again with a new landing file (incremental: MERGEs into bronze/files and gold.predictions,
overwrite-where commits into silver).

* Each job run's own events (START, then COMPLETE) name exactly the Delta tables it read and wrote,
  carry its report's run id, and agree with its report's ``summary.lineage``.
* The listener's events carrying that run id name the same written tables (MERGEs included), and
  no other run's.
* stderr and stdout are not a terminal: the output holds no carriage return (no progress bars).

System tier: two spark-submit drivers, Horovod training included."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from tests.conftest import FAST_MODEL

ROOT = Path(__file__).resolve().parents[2]
JOBS = ("clean_reviews", "build_features", "label_issues", "train_model", "score_reviews")
BRONZE = {"bronze/reviews_raw", "bronze/quarantine", "bronze/files"}
SILVER = {"silver/reviews", "silver/disposition", "silver/dedupe_index"}
GOLD = {"gold/vocab", "gold/labels", "gold/features"}
LABEL_ISSUES = ({"gold/features", "gold/labels", "silver/reviews"}, {"gold/label_issues"})
# (inputs, outputs) of each job's run on an empty lakehouse, then on a new landing file
FIRST = {
    "clean_reviews": ({"bronze/reviews_raw"}, BRONZE | SILVER),
    "build_features": ({"silver/reviews"}, GOLD),
    "label_issues": LABEL_ISSUES,
    "train_model": (GOLD | {"silver/reviews"}, set()),
    "score_reviews": ({"silver/reviews"}, {"gold/predictions"}),
}
# The increment (one clean new file): bronze takes it by append, new rows are found through bronze's
# commits (no ledger comparison, no quarantine read), and a batch that quarantines nothing and
# changes no file leaves bronze/quarantine alone.
UNQUARANTINED = BRONZE - {"bronze/quarantine"}
NEXT = {
    "clean_reviews": (UNQUARANTINED | SILVER, UNQUARANTINED | SILVER),
    "build_features": ({"silver/reviews"}, GOLD),
    "label_issues": LABEL_ISSUES,
    "score_reviews": ({"silver/reviews"}, {"gold/predictions"}),
}
# the increment's writes that are MERGEs (silver's commit by name is a save with a replaceWhere)
MERGED = {"clean_reviews": {"bronze/files"}, "score_reviews": {"gold/predictions"}}


def chain(root: Path, landing: Path, *extra: str) -> bytes:
    """``spark-submit pipelines/run_all.py`` over ``landing`` into ``root``, lineage to a file; its
    output (stdout and stderr, pipes) as bytes."""
    venv_bin = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}", "PYSPARK_PYTHON": sys.executable}
    env["PYSPARK_DRIVER_PYTHON"] = sys.executable
    settings = [f"reports_dir={root / 'reports'}", f"models_dir={root / 'models'}", "lineage.transport=file"]
    cmd = [str(venv_bin / "spark-submit"), "--driver-memory", "2g", str(ROOT / "pipelines" / "run_all.py")]
    cmd += ["--input", str(landing), "--lakehouse", str(root / "lakehouse"), "--model-version", "latest", *extra]
    cmd += [a for c in [*settings, *FAST_MODEL] for a in ("--conf", c)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    assert done.returncode == 0, done.stdout.decode(errors="replace")[-3000:]
    return done.stdout


def table(lake: Path, dataset: dict) -> str:
    assert dataset["namespace"] == "file", dataset
    return str(Path(dataset["name"]).relative_to(lake))


def lineage_of(root: Path, job: str) -> tuple[dict, list[dict], list[dict]]:
    """The job's latest run: its report's ``summary.lineage``, its own events, and the listener's
    events that carry its run id."""
    report = json.loads((root / "reports" / "runs" / job / "latest.json").read_text(encoding="utf-8"))
    summary, run_id = report["summary"]["lineage"], report["run_id"]
    assert summary["transport"] == "file" and Path(summary["location"]).parent == root / "reports" / "lineage"
    events = [json.loads(line) for line in Path(summary["location"]).read_text(encoding="utf-8").splitlines()]
    own = [e for e in events if e["run"]["facets"].get("reviewlake_run", {}).get("run_id") == run_id]
    spark = [
        e
        for e in events
        if e["run"]["facets"].get("spark_properties", {}).get("properties", {}).get("spark.reviewlake.run_id") == run_id
    ]
    assert {e["run"]["facets"]["spark_properties"]["properties"]["spark.reviewlake.job"] for e in spark} <= {job}
    return summary, own, spark


def check_job(root: Path, job: str, expected: tuple[set, set]) -> dict[str, set]:
    """The job's own events name ``expected`` (inputs, outputs) and its report says so; returns the
    tables its listener events wrote, by Spark command."""
    lake = root / "lakehouse"
    summary, own, spark = lineage_of(root, job)
    assert [e["eventType"] for e in own] == ["START", "COMPLETE"], job
    assert {e["job"]["name"] for e in own} == {job}
    assert own[0]["run"]["runId"] == own[1]["run"]["runId"] == summary["run"]
    inputs = {table(lake, d) for d in own[1]["inputs"]}
    outputs = {table(lake, d) for d in own[1]["outputs"]}
    assert (inputs, outputs) == expected, job
    assert {str(Path(u.removeprefix("file:")).relative_to(lake)) for u in summary["outputs"]} == outputs
    written = defaultdict(set)
    for e in spark:
        for d in e["outputs"]:
            written[e["job"]["name"].split(".")[1]].add(table(lake, d))
    assert set().union(*written.values()) == outputs, (job, dict(written))  # the listener saw every write
    return written


def test_each_job_runs_lineage_names_the_tables_it_read_and_wrote(corpus_sample, tmp_path):
    root = tmp_path
    out = chain(root, corpus_sample, "--train")
    assert b"\r" not in out, "a run whose output is not a terminal wrote carriage returns (progress bars)"
    assert b"[clean_reviews] summary" in out and b"[score_reviews] summary" in out
    for job in JOBS:
        check_job(root, job, FIRST[job])

    landing = tmp_path / "landing"
    shutil.copytree(corpus_sample, landing)
    more = (ROOT / "data" / "landing" / "pos.txt").read_text(encoding="utf-8").splitlines()[400:430]
    (landing / "more.txt").write_text("\n".join(more) + "\n", encoding="utf-8")
    assert b"\r" not in chain(root, landing)
    for job, expected in NEXT.items():
        written = check_job(root, job, expected)
        assert MERGED.get(job, set()) <= written.get("execute_merge_into_command", set()), (job, dict(written))

"""The Airflow DAG in deploy/airflow, run for real: ``airflow dags test reviewlake_nightly`` (Airflow's
own CLI, a sqlite metadata database in a throwaway AIRFLOW_HOME, the Spark connection ``local[2]``)
with training on: clean_reviews -> build_features -> label_issues -> train_model -> score_reviews, each a real
``spark-submit`` by the provider's SparkSubmitHook, on a small landing into a fresh lakehouse.

Checked: each task a spark-submit with ``--master local[2]``; the run and each of the four tasks
succeeded (``airflow tasks states-for-dag-run``); every silver review has a prediction of the model
the run trained (gold/predictions read with Polars in the project virtualenv, no Spark); each job
ran once and wrote its run report; and the relative paths of the settings (``models_dir``,
``reports_dir``, ``spark.jars_dir``) resolved under the reviewlake home the DAG passes as
``--conf home=``, not under the directory Airflow ran the tasks in (another folder, left empty).
The home is a temporary folder linking the checkout's ``pipelines/``, ``reviewlake/``, ``.venv/``
and ``jars/``, so models and reports land there and the checkout stays clean.

Runs in the Airflow virtualenv (``make test-system``); needs the project's ``.venv`` (``make setup``).
Measured on 2 cores shared with another Spark user (2026-12-03): 399 s and 445 s for the test, of
which the DAG run itself (Airflow's run_duration) 382 s in the first.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import FAST_MODEL

pytest.importorskip("airflow.providers.apache.spark")

ROOT = Path(__file__).resolve().parents[3]
DAG_ID = "reviewlake_nightly"
TASKS = ["clean_reviews", "build_features", "label_issues", "train_model", "score_reviews"]
LINKED = ("pipelines", "reviewlake", ".venv", "jars")  # what the jobs need from the checkout
AIRFLOW = Path(sys.executable).parent / "airflow"
# the predictions and the silver rows they score, read without Spark (the project venv's Polars)
READ_LAKE = """
import json, sys
import polars as pl
silver = pl.read_delta(sys.argv[1] + "/silver/reviews")
predictions = pl.read_delta(sys.argv[1] + "/gold/predictions")
print(json.dumps({
    "silver": sorted(silver["review_id"].to_list()),
    "predicted": sorted(predictions["review_id"].to_list()),
    "versions": sorted(predictions["model_version"].unique().to_list()),
}))
"""


def make_home(root: Path) -> Path:
    """A reviewlake home under ``root``: links to what the jobs need from this checkout."""
    home = root / "home"
    home.mkdir()
    for name in LINKED:
        if not (ROOT / name).exists():
            pytest.fail(f"{ROOT / name} missing: run `make setup`")
        (home / name).symlink_to(ROOT / name)
    return home


def write_config(path: Path) -> Path:
    """The test-session settings (tests/settings.yaml) with the small model of ``FAST_MODEL``, as one
    ``--config`` file (merged over the packaged defaults like any)."""
    config = yaml.safe_load((ROOT / "tests" / "settings.yaml").read_text(encoding="utf-8"))
    for item in FAST_MODEL:
        key, _, value = item.partition("=")
        section, name = key.split(".")
        config.setdefault(section, {})[name] = yaml.safe_load(value)
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def airflow(env: dict, cwd: Path, log: Path, *args: str, timeout: int = 120) -> str:
    """``airflow <args>`` in ``cwd``, its output (also written to ``log``); a failure or a timeout
    (the whole process group killed: spark-submit JVMs included) fails the test with its tail."""
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [str(AIRFLOW), *args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = "timeout"
    text = log.read_text(encoding="utf-8", errors="replace")
    assert code == 0, f"airflow {' '.join(args)}: exit {code}\n{text[-6000:]}"
    return text


def last_json(text: str):
    """The JSON document an ``airflow ... -o json`` command printed (its last line that is one)."""
    return json.loads([line for line in text.splitlines() if line.startswith("[")][-1])


@pytest.mark.timeout(1800)
def test_the_dag_runs_every_job_and_fills_the_predictions(small_landing, tmp_path):
    home = make_home(tmp_path)
    lakehouse = tmp_path / "lakehouse"
    workdir = tmp_path / "workdir"  # where Airflow runs the tasks: not the home
    workdir.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("REVIEWLAKE_", "AIRFLOW", "PYSPARK_"))},
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "deploy" / "airflow"),
        # the provider makes the master of a `spark` connection its host: --master local[2]
        "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark", "host": "local[2]"}),
        "REVIEWLAKE_HOME": str(home),
        "REVIEWLAKE_LAKEHOUSE": str(lakehouse),
        "REVIEWLAKE_INPUT": str(small_landing),
        "REVIEWLAKE_CONFIG": str(write_config(tmp_path / "settings.yaml")),
        "REVIEWLAKE_TRAIN": "1",  # a fresh home has no model to score with
        "REVIEWLAKE_RETRIES": "0",  # a failure fails the run at once
        # the jobs import this checkout's reviewlake (the home's link), whichever checkout the
        # project venv was installed from
        "PYTHONPATH": str(home),
    }
    airflow(env, workdir, tmp_path / "db-migrate.log", "db", "migrate")
    log = airflow(env, workdir, tmp_path / "dags-test.log", "dags", "test", DAG_ID, timeout=1600)
    for job in TASKS:  # each task a spark-submit with the connection's master
        assert f"spark-submit --master local[2] --driver-memory 6g --name reviewlake-{job} " in log

    runs = last_json(airflow(env, workdir, tmp_path / "runs.log", "dags", "list-runs", DAG_ID, "-o", "json"))
    assert [run["state"] for run in runs] == ["success"]
    run_id = runs[0]["run_id"]
    states = last_json(
        airflow(env, workdir, tmp_path / "states.log", "tasks", "states-for-dag-run", DAG_ID, run_id, "-o", "json")
    )
    assert {s["task_id"]: s["state"] for s in states} == dict.fromkeys(TASKS, "success")

    read = subprocess.run(
        [str(home / ".venv" / "bin" / "python"), "-c", READ_LAKE, str(lakehouse)],
        capture_output=True,
        text=True,
        check=True,
    )
    lake = json.loads(read.stdout)
    version = (home / "models" / "LATEST").read_text(encoding="utf-8").strip()
    assert (home / "models" / version).is_dir()
    assert lake["predicted"] == lake["silver"] and len(lake["silver"]) > 0
    assert lake["versions"] == [version]
    for job in TASKS:  # one run each (no retries), its report under the home
        reports = home / "reports" / "runs" / job
        run = json.loads((reports / "latest.json").read_text(encoding="utf-8"))["run_id"]
        assert sorted(p.name for p in reports.iterdir()) == sorted([f"{run}.json", "latest.json"]), job
    assert sorted(p.name for p in workdir.iterdir()) == []

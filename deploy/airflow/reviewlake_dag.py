"""Apache Airflow DAG: the reviewlake nightly chain, one SparkSubmitOperator per job.

clean_reviews (ingest + silver) -> build_features -> label_issues -> [train_model] -> score_reviews, in order;
a task runs only when the one before it succeeded, and each is retried (the jobs are idempotent,
and a run that found another one holding the job's lock, exit 5, succeeds on a later try).
Needs ``apache-airflow-providers-apache-spark`` (deploy/airflow/requirements.txt, in a virtualenv of its
own). Tested with Airflow 3.3.2 and the provider 6.3.4; the Airflow 2 import below is untested.

Settings, read when a task runs (Airflow Variable, else environment variable, else default):

| Variable | env | default |
|---|---|---|
| ``reviewlake_home`` | ``REVIEWLAKE_HOME`` | ``/opt/reviewlake`` (a checkout with ``make setup`` done) |
| ``reviewlake_lakehouse`` | ``REVIEWLAKE_LAKEHOUSE`` | ``<home>/lakehouse`` |
| ``reviewlake_input`` | ``REVIEWLAKE_INPUT`` | ``<home>/data/landing`` |
| ``reviewlake_config`` | ``REVIEWLAKE_CONFIG`` | ``<home>/reviewlake/conf/reviewlake.yaml`` (the defaults) |
| ``reviewlake_model`` | ``REVIEWLAKE_MODEL`` | ``latest`` |

Read when the DAG file is parsed (environment only, since they change the DAG's shape):
``REVIEWLAKE_TRAIN`` (``1``/``true``: train a model before scoring; default off, training is
slow), ``REVIEWLAKE_SCHEDULE`` (cron, default ``30 2 * * *``), ``REVIEWLAKE_SPARK_CONN`` (the
Spark connection, default ``spark_default``; its host is the master: ``local[*]``, ``yarn``,
``spark://host:7077``, ``k8s://...``), ``REVIEWLAKE_RETRIES`` (default 2).
spark-submit is taken from ``<home>/.venv/bin`` first (its pyspark carries the Delta jars).
Every task gets ``--conf home=<home>``: relative paths of the reviewlake settings (``models_dir``,
``reports_dir``, ``spark.jars_dir``, ... ; docs/operations.md#paths-and-the-working-directory)
resolve under the home, whatever directory the worker runs the task in.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

DAG_ID = "reviewlake_nightly"
HOME = "var.value.get('reviewlake_home', %r)" % os.environ.get("REVIEWLAKE_HOME", "/opt/reviewlake")


def setting(name: str, under_home: str | None = None, default: str = "") -> str:
    """A Jinja expression for a setting: Variable ``reviewlake_<name>``, else env
    ``REVIEWLAKE_<NAME>``, else ``<home>/<under_home>`` (or ``default``)."""
    env = os.environ.get(f"REVIEWLAKE_{name.upper()}")
    fallback = repr(env) if env else (f"({HOME} ~ '/{under_home}')" if under_home else repr(default))
    return "{{ var.value.get('reviewlake_%s', %s) }}" % (name, fallback)


def flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


# `--conf home=<home>`: every relative path of the settings (models_dir, reports_dir, jars_dir, ...)
# resolves under the reviewlake home, not under the directory the worker happens to run the task in.
COMMON = [
    "--lakehouse",
    setting("lakehouse", "lakehouse"),
    "--config",
    setting("config", "reviewlake/conf/reviewlake.yaml"),
    "--conf",
    "home={{ %s }}" % HOME,
]
STEPS = [
    ("clean_reviews", ["--input", setting("input", "data/landing")]),
    ("build_features", []),
    ("label_issues", []),
    *([("train_model", [])] if flag("REVIEWLAKE_TRAIN") else []),
    ("score_reviews", ["--model-version", setting("model", default="latest")]),
]

with DAG(
    dag_id=DAG_ID,
    description="reviewlake: landing -> bronze/silver -> gold -> label issues -> [model] -> predictions",
    schedule=os.environ.get("REVIEWLAKE_SCHEDULE", "30 2 * * *"),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # runs never overlap (the jobs' locks would refuse it anyway)
    default_args={
        "retries": int(os.environ.get("REVIEWLAKE_RETRIES", "2")),
        "retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(hours=6),
    },
    tags=["reviewlake"],
) as dag:
    previous = None
    for job, args in STEPS:
        task = SparkSubmitOperator(
            task_id=job,
            application="{{ %s }}/pipelines/%s.py" % (HOME, job),
            application_args=[*args, *COMMON],
            conn_id=os.environ.get("REVIEWLAKE_SPARK_CONN", "spark_default"),
            name=f"reviewlake-{job}",
            driver_memory="6g",
            env_vars={
                "PATH": "{{ %s }}/.venv/bin:%s" % (HOME, os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")),
                "PYSPARK_PYTHON": "{{ %s }}/.venv/bin/python" % HOME,
                "TF_CPP_MIN_LOG_LEVEL": "2",
            },
        )
        if previous is not None:
            previous >> task
        previous = task

"""The Airflow DAG in deploy/airflow, loaded by Airflow's own DagBag (the way the scheduler parses
it): no import error, one SparkSubmitOperator per job chained in order, retries set, and each
task's application an entry script that exists, given the reviewlake home (``--conf home=``)
its relative paths resolve against. Runs in the Airflow virtualenv (``make airflow-venv``;
Airflow's protobuf cannot share the project's virtualenv with TensorFlow)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest

pytest.importorskip("airflow.providers.apache.spark")

ROOT = Path(__file__).resolve().parents[3]
DAG_FOLDER = ROOT / "deploy" / "airflow"
ENV = ("REVIEWLAKE_TRAIN", "REVIEWLAKE_HOME", "REVIEWLAKE_LAKEHOUSE", "REVIEWLAKE_RETRIES", "REVIEWLAKE_CONFIG")


def load_dag(monkeypatch, **env):
    """The DAG as Airflow's DagBag parses deploy/airflow with ``env`` set (home: this checkout)."""
    from airflow.dag_processing.dagbag import DagBag

    for key in ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("REVIEWLAKE_HOME", str(ROOT))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    bag = DagBag(dag_folder=str(DAG_FOLDER))
    assert bag.import_errors == {}
    assert bag.dag_ids == ["reviewlake_nightly"]
    return bag.dags["reviewlake_nightly"]


def render(template: str) -> str:
    """A task field as Airflow renders it when no Variable is set (each setting's fallback)."""
    return jinja2.Template(template).render(var=SimpleNamespace(value=SimpleNamespace(get=lambda _k, d: d)))


def chain(dag) -> list[str]:
    """Task ids from the root along the single downstream path (asserting it is a chain)."""
    roots = [t for t in dag.tasks if not t.upstream_task_ids]
    assert len(roots) == 1
    order, task = [], roots[0]
    while task is not None:
        order.append(task.task_id)
        nxt = list(task.downstream_task_ids)
        assert len(nxt) <= 1
        task = dag.get_task(nxt[0]) if nxt else None
    assert len(order) == len(dag.tasks)
    return order


def test_dag_chains_the_jobs_in_order_with_retries(monkeypatch):
    from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

    dag = load_dag(monkeypatch)
    assert chain(dag) == ["clean_reviews", "build_features", "label_issues", "score_reviews"]
    assert dag.max_active_runs == 1 and not dag.catchup
    for task in dag.tasks:
        assert isinstance(task, SparkSubmitOperator)
        assert task.retries == 2
        application = Path(render(task.application))
        assert application == ROOT / "pipelines" / f"{task.task_id}.py" and application.is_file()
        assert "--lakehouse" in task.application_args
        config = task.application_args[task.application_args.index("--config") + 1]
        assert (
            Path(render(config)) == ROOT / "reviewlake" / "conf" / "reviewlake.yaml" and Path(render(config)).is_file()
        )
        # every relative path of the settings (models, reports, jars) resolves under the home, not the
        # worker's working directory
        home = task.application_args[task.application_args.index("--conf") + 1]
        assert "reviewlake_home" in home and render(home) == f"home={ROOT}"
    clean = dag.get_task("clean_reviews")
    assert render(clean.application_args[clean.application_args.index("--input") + 1]) == str(ROOT / "data" / "landing")


def test_training_and_settings_from_the_environment(monkeypatch):
    dag = load_dag(monkeypatch, REVIEWLAKE_TRAIN="1", REVIEWLAKE_LAKEHOUSE="hdfs://nn/lake", REVIEWLAKE_RETRIES="4")
    assert chain(dag) == ["clean_reviews", "build_features", "label_issues", "train_model", "score_reviews"]
    task = dag.get_task("train_model")
    assert task.retries == 4
    assert Path(render(task.application)).is_file()
    args = task.application_args
    lakehouse = args[args.index("--lakehouse") + 1]
    assert "reviewlake_lakehouse" in lakehouse  # an Airflow Variable first ...
    assert render(lakehouse) == "hdfs://nn/lake"  # ... else the environment

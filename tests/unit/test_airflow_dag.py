"""The Airflow DAG in deploy/airflow imports and chains one spark-submit task per job, in order,
with retries. Skipped where Airflow is not installed (the optional extra: pip install -e ".[airflow]")."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("airflow")
pytest.importorskip("airflow.providers.apache.spark")

DAG_FILE = Path(__file__).resolve().parents[2] / "deploy" / "airflow" / "reviewlake_dag.py"


def load_dag(monkeypatch, **env):
    for key in ("REVIEWLAKE_TRAIN", "REVIEWLAKE_HOME", "REVIEWLAKE_LAKEHOUSE", "REVIEWLAKE_RETRIES"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("reviewlake_dag_under_test", DAG_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


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
    assert dag.dag_id == "reviewlake_nightly"
    assert chain(dag) == ["clean_reviews", "build_features", "score_reviews"]
    assert dag.max_active_runs == 1 and not dag.catchup
    for task in dag.tasks:
        assert isinstance(task, SparkSubmitOperator)
        assert task.retries == 2
        assert task.application.endswith(f"/pipelines/{task.task_id}.py")
        assert "--lakehouse" in task.application_args
    clean = dag.get_task("clean_reviews")
    assert "--input" in clean.application_args


def test_training_and_settings_from_the_environment(monkeypatch):
    dag = load_dag(monkeypatch, REVIEWLAKE_TRAIN="1", REVIEWLAKE_LAKEHOUSE="hdfs://nn/lake",
                   REVIEWLAKE_HOME="/srv/rl", REVIEWLAKE_RETRIES="4")
    assert chain(dag) == ["clean_reviews", "build_features", "train_model", "score_reviews"]
    task = dag.get_task("train_model")
    assert task.retries == 4
    args = task.application_args
    lakehouse = args[args.index("--lakehouse") + 1]
    assert "reviewlake_lakehouse" in lakehouse and "'hdfs://nn/lake'" in lakehouse  # Variable first
    assert "'/srv/rl'" in task.application

"""Lineage settings and events without Spark: what the session is given for each transport, the
progress bars only on a terminal, dataset names as the OpenLineage Spark integration writes them,
and a job run's own events (the tables it read and wrote, its run id). The events of real job runs,
the listener's included: tests/system/test_lineage.py."""

from __future__ import annotations

import io
import uuid

import pytest

from reviewlake.core import lineage
from reviewlake.core.config import load_config
from reviewlake.core.spark import build_conf


def test_file_transport_starts_the_listener_writing_under_the_reports_folder(tmp_path):
    cfg = load_config(None, [f"reports_dir={tmp_path}", "lineage.transport=file", "lineage.namespace=shop"])
    conf = build_conf(cfg)
    assert conf["spark.extraListeners"] == lineage.LISTENER
    assert conf["spark.openlineage.transport.type"] == "file"
    assert conf["spark.openlineage.namespace"] == "shop"
    location = conf["spark.openlineage.transport.location"]
    assert location.startswith(str(tmp_path / "lineage") + "/") and location.endswith(".jsonl")
    captured = conf["spark.openlineage.capturedProperties"].split(",")
    assert {lineage.RUN_ID, lineage.JOB} <= set(captured)


def test_http_transport_names_the_catalogue_and_a_users_listener_is_kept():
    cfg = load_config(
        None,
        [
            "lineage.transport=http",
            "lineage.url=http://marquez:5000",
            "lineage.timeout_ms=2000",
            "spark.conf.spark.extraListeners=com.example.Mine",
        ],
    )
    conf = build_conf(cfg)
    assert conf["spark.extraListeners"] == f"{lineage.LISTENER},com.example.Mine"
    assert conf["spark.openlineage.transport.url"] == "http://marquez:5000"
    assert conf["spark.openlineage.transport.endpoint"] == "/api/v1/lineage"
    assert conf["spark.openlineage.transport.timeoutInMillis"] == "2000"
    assert "spark.openlineage.transport.location" not in conf


def test_off_adds_no_listener():
    conf = build_conf(load_config(None, ["lineage.transport=off"]))
    assert not [k for k in conf if k.startswith("spark.openlineage") or k == "spark.extraListeners"]


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_bars_only_when_stderr_is_a_terminal(monkeypatch, terminal):
    class Stderr(io.StringIO):
        def isatty(self) -> bool:
            return terminal

    monkeypatch.setattr("sys.stderr", Stderr())
    cfg = load_config(None, ["spark.conf={}"])  # no test-session override
    assert build_conf(cfg)["spark.ui.showConsoleProgress"] == str(terminal).lower()


@pytest.mark.parametrize(
    "uri, namespace, name",
    [
        ("file:/data/lake/silver/reviews", "file", "/data/lake/silver/reviews"),
        ("/data/lake/gold/features", "file", "/data/lake/gold/features"),
        ("hdfs://nn:8020/lake/silver/reviews", "hdfs://nn:8020", "/lake/silver/reviews"),
        ("s3a://bucket/lake/gold/vocab", "s3://bucket", "lake/gold/vocab"),
    ],
)
def test_datasets_are_named_as_the_spark_integration_names_them(uri, namespace, name):
    assert lineage.dataset(uri) == {"namespace": namespace, "name": name}


def test_a_job_runs_events_name_what_it_read_and_wrote_and_its_run_id():
    where = {"transport": "file", "namespace": "reviewlake", "location": "/r/lineage/x.jsonl"}
    run = lineage.RunLineage("build_features", "20261203T000000Z-abcdef", "/r/runs/build_features/x.json", where)
    lineage.read_table("file:/lake/silver/reviews")  # no run current: not noted
    lineage._current = run
    try:
        lineage.read_table("file:/lake/silver/reviews")
        lineage.read_table("file:/lake/silver/reviews")
        lineage.wrote_table("file:/lake/gold/vocab")
        lineage.wrote_table("file:/lake/gold/features")
    finally:
        lineage._current = None
    start, end = lineage._event(run, "START"), lineage._event(run, "COMPLETE")
    assert start["inputs"] == start["outputs"] == []
    assert end["inputs"] == [{"namespace": "file", "name": "/lake/silver/reviews"}]
    assert [o["name"] for o in end["outputs"]] == ["/lake/gold/vocab", "/lake/gold/features"]
    assert end["job"] == {"namespace": "reviewlake", "name": "build_features"}
    assert end["run"]["runId"] == start["run"]["runId"] == run.run_uuid == str(uuid.UUID(run.run_uuid))
    facet = end["run"]["facets"]["reviewlake_run"]
    assert facet["run_id"] == "20261203T000000Z-abcdef" and facet["report"] == "/r/runs/build_features/x.json"
    summary = run.summary()
    assert summary["location"] == "/r/lineage/x.jsonl" and summary["run"] == run.run_uuid
    assert summary["inputs"] == ["file:/lake/silver/reviews"]
    assert summary["outputs"] == ["file:/lake/gold/vocab", "file:/lake/gold/features"]

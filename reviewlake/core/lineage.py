"""Lineage: OpenLineage run events for every job run, sent by the OpenLineage Spark integration
(``io.openlineage:openlineage-spark_2.13``, fetched by ``make setup`` into ``spark.jars_dir``) to a
file under ``reports_dir`` (``lineage.transport: file``, one JSON event a line), to a catalogue
(``http``: Marquez, DataHub, OpenMetadata), or nowhere (``off``). Two kinds of events go there:

* **The job run's own** (job ``<lineage.namespace>/<job name>``, e.g. ``reviewlake/clean_reviews``):
  START when the run starts Spark, COMPLETE or FAIL when it ends, the latter naming every Delta
  table the run read (inputs) and wrote (outputs), as :mod:`reviewlake.core.delta_io` saw them:
  every Delta read and write goes through it. Its run id is a UUID made from the run report's
  ``run_id``, and its ``reviewlake_run`` run facet holds that ``run_id``, the job and the report's
  path. These are the events that name a job's inputs: a job publishes what it staged and audited
  (a local checkpoint, :mod:`reviewlake.quality.stager`), so the plan of a write no longer shows
  what the staged rows were read from.
* **Spark's**, from the OpenLineage Spark listener: one run per Spark action, writes and MERGEs
  (the Python ``DeltaTable.merge`` builder's too) naming the table they write, with column lineage
  where Spark's plan shows it. One session may serve several job runs (``make nightly`` runs the
  chain in one driver), so their parent is the Spark application, not the job run; instead each
  job run puts its id and job name into the session's runtime settings while it runs, and the
  listener copies them into every event's ``spark_properties`` run facet
  (``spark.openlineage.capturedProperties``): :data:`RUN_FACET` is the run report's ``run_id``.

The run report records where its events went and what they named (``summary.lineage``: the file or
the catalogue's URL, the namespace, the job run's OpenLineage run id, inputs and outputs). A run
waits at its end until the listener has handled its events (so none of them carries the next
run's id). A run that never starts Spark (nothing new to do) reads and writes no table, and emits
nothing. Lineage never fails a run: a catalogue that cannot be reached is logged.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from py4j.protocol import Py4JError

from reviewlake.core.settings import Settings

log = logging.getLogger(__name__)

JAR = "openlineage-spark_2.13-1.37.0.jar"
LISTENER = "io.openlineage.spark.agent.OpenLineageSparkListener"
RUN_ID = "spark.reviewlake.run_id"  # runtime settings each Spark event's spark_properties facet carries
JOB = "spark.reviewlake.job"
CAPTURED = ("spark.master", "spark.app.name", JOB, RUN_ID)
RUN_FACET = f'run.facets.spark_properties.properties["{RUN_ID}"]'  # where a Spark event names its run
DRAIN_S = 120  # the longest a run waits for the listener to handle its events
PRODUCER = "urn:reviewlake:0.1.0"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json"


# ----------------------------------------------------------------------------- the session's settings
def events_file(cfg: Settings, started: datetime | None = None) -> Path:
    """Where the file transport writes: ``<reports_dir>/lineage/<session start>-<pid>.jsonl``, one
    file per driver, appended to by every run it serves."""
    stamp = (started or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return cfg.reports_path / "lineage" / f"{stamp}-{os.getpid()}.jsonl"


def spark_conf(cfg: Settings) -> dict[str, str]:
    """The session settings that start the listener and send its events where ``cfg.lineage`` says;
    empty when lineage is off. ``spark.extraListeners`` is the listener alone: a listener of the
    user's (``spark.conf``) is appended by :func:`reviewlake.core.spark.build_conf`."""
    lin = cfg.lineage
    if lin.transport == "off":
        return {}
    conf = {
        "spark.extraListeners": LISTENER,
        "spark.openlineage.namespace": lin.namespace,
        "spark.openlineage.transport.type": lin.transport,
        "spark.openlineage.capturedProperties": ",".join(CAPTURED),
    }
    if lin.transport == "file":
        conf["spark.openlineage.transport.location"] = str(events_file(cfg))
    else:
        conf["spark.openlineage.transport.url"] = lin.url
        conf["spark.openlineage.transport.endpoint"] = lin.endpoint
        conf["spark.openlineage.transport.timeoutInMillis"] = str(lin.timeout_ms)
    return conf


def destination(spark: Any) -> dict[str, Any]:
    """Where the session's events go (none: ``{"transport": "off"}``): the file or the catalogue's
    URL, and the namespace. Read from the session itself, which an earlier job run of the same
    driver may have started with other settings."""
    conf = spark.sparkContext.getConf()
    listeners = [name.strip() for name in (conf.get("spark.extraListeners", "") or "").split(",")]
    if LISTENER not in listeners or conf.get("spark.openlineage.disabled", "") == "true":
        return {"transport": "off"}
    transport = conf.get("spark.openlineage.transport.type", "console")
    out: dict[str, Any] = {"transport": transport, "namespace": conf.get("spark.openlineage.namespace", "default")}
    if transport == "file":
        out["location"] = conf.get("spark.openlineage.transport.location", "")
    elif transport == "http":
        url = conf.get("spark.openlineage.transport.url", "") or ""
        out["url"] = url.rstrip("/") + (conf.get("spark.openlineage.transport.endpoint", "") or "")
    return out


# ----------------------------------------------------------------------------- one job run
@dataclass
class RunLineage:
    """One job run's lineage: where it goes, and the tables the run read and wrote (URIs, in order)."""

    job: str
    run_id: str
    report: str | None
    where: dict[str, Any]
    inputs: dict[str, None] = field(default_factory=dict)
    outputs: dict[str, None] = field(default_factory=dict)

    @property
    def on(self) -> bool:
        return self.where["transport"] != "off"

    @property
    def run_uuid(self) -> str:
        """The job run's OpenLineage run id: a UUID made from the run report's ``run_id``."""
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{PRODUCER}:{self.where.get('namespace')}:{self.run_id}"))

    def summary(self) -> dict[str, Any]:
        """What the run report records (``summary.lineage``)."""
        if not self.on:
            return dict(self.where)
        return {
            **self.where,
            "job": self.job,
            "run": self.run_uuid,
            "spark_events_run_facet": RUN_FACET,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
        }


_current: RunLineage | None = None  # the job run this driver is running (one at a time)


def read_table(uri: str) -> None:
    """Note that the current job run read the Delta table at ``uri`` (:mod:`delta_io` calls it)."""
    if _current is not None:
        _current.inputs.setdefault(uri)


def wrote_table(uri: str) -> None:
    """Note that the current job run wrote (committed to) the Delta table at ``uri``."""
    if _current is not None:
        _current.outputs.setdefault(uri)


def start_run(spark: Any, job: str, run_id: str, report: str | None = None) -> RunLineage:
    """From now on (until :func:`end_run`) name the run in Spark's events and note the tables it
    reads and writes; emits the run's START event."""
    global _current
    run = RunLineage(job, run_id, report, destination(spark))
    _current = run
    if run.on:
        spark.conf.set(RUN_ID, run_id)
        spark.conf.set(JOB, job)
        _emit(spark, _event(run, "START"))
    return run


def end_run(spark: Any, run: RunLineage, failed: bool) -> dict[str, Any]:
    """Wait until the listener has sent the run's Spark events, emit its COMPLETE (or FAIL) event
    with the tables it read and wrote, stop naming the run; returns :meth:`RunLineage.summary`."""
    global _current
    if _current is run:
        _current = None
    if not run.on:
        return run.summary()
    try:
        spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty(DRAIN_S * 1000)
        spark.conf.unset(RUN_ID)
        spark.conf.unset(JOB)
    except (Py4JError, AttributeError) as exc:  # a timeout (later events may carry the next run id), no session
        log.warning("lineage: the run's Spark events may be incomplete: %s", _first_line(exc))
    _emit(spark, _event(run, "FAIL" if failed else "COMPLETE"))
    return run.summary()


# ----------------------------------------------------------------------------- events
def dataset(uri: str) -> dict[str, str]:
    """An OpenLineage dataset's namespace and name for a table URI, as the Spark integration names
    them (openlineage.io's naming: ``file`` + path; ``hdfs://host:port`` + path; ``s3://bucket`` +
    key)."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return {"namespace": "file", "name": parsed.path or uri}
    if parsed.scheme in ("s3", "s3a", "s3n", "gs"):
        scheme = "gs" if parsed.scheme == "gs" else "s3"
        return {"namespace": f"{scheme}://{parsed.netloc}", "name": parsed.path.lstrip("/")}
    return {"namespace": f"{parsed.scheme}://{parsed.netloc}", "name": parsed.path}


def _event(run: RunLineage, kind: str) -> dict[str, Any]:
    facet = {"_producer": PRODUCER, "_schemaURL": f"{SCHEMA}#/$defs/RunFacet", "run_id": run.run_id, "job": run.job}
    if run.report:
        facet["report"] = run.report
    ended = kind != "START"
    return {
        "eventType": kind,
        "eventTime": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "producer": PRODUCER,
        "schemaURL": f"{SCHEMA}#/$defs/RunEvent",
        "run": {"runId": run.run_uuid, "facets": {"reviewlake_run": facet}},
        "job": {"namespace": run.where["namespace"], "name": run.job},
        "inputs": [dataset(u) for u in run.inputs] if ended else [],
        "outputs": [dataset(u) for u in run.outputs] if ended else [],
    }


def _emit(spark: Any, event: dict[str, Any]) -> None:
    """Send ``event`` through the OpenLineage client of the jar, configured like the listener (the
    session's ``spark.openlineage.*`` settings): the same file, catalogue, authentication."""
    try:
        jvm = spark.sparkContext._jvm
        client = _clients.get(id(spark.sparkContext))
        if client is None:
            config = jvm.io.openlineage.spark.agent.ArgumentParser.parse(spark.sparkContext._jsc.sc().getConf())
            transport = jvm.io.openlineage.client.transports.TransportFactory(config.getTransportConfig()).build()
            client = _clients[id(spark.sparkContext)] = (
                jvm.io.openlineage.client.OpenLineageClient.builder().transport(transport).build()
            )
        client.emit(jvm.io.openlineage.client.OpenLineageClientUtils.runEventFromJson(json.dumps(event)))
    except Py4JError as exc:  # the catalogue or the file could not take it: the run goes on
        log.warning("lineage: %s event of %s not sent: %s", event["eventType"], event["job"]["name"], _first_line(exc))


_clients: dict[int, Any] = {}  # one OpenLineage client per SparkContext


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]

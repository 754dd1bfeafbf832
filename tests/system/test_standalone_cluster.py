"""The same code on a real cluster: a Spark standalone master and two workers (1 core each) are
started on loopback with ``spark-class``; ``clean_reviews.py``, ``build_features.py`` and
``train_model.py`` (Horovod on Spark, 2 processes) are submitted with ``--master spark://…`` and
the packages shipped as ``--py-files dist/reviewlake.zip``; silver and gold equal those of a
local run of the same landing files."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.integration.helpers import assert_same_tables, free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def env() -> dict:
    return {
        **os.environ,
        "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": "127.0.0.1",
    }


def alive_workers(ui_port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/json/", timeout=5) as r:
            return int(json.load(r).get("aliveworkers", 0))
    except OSError:
        return 0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``spark://127.0.0.1:<port>`` of a master with two 1-core workers; stopped at the end."""
    work = tmp_path_factory.mktemp("standalone")
    port, ui = free_port(), free_port()
    url = f"spark://127.0.0.1:{port}"
    procs = []

    def start(name: str, *args: str) -> None:
        log = open(work / f"{name}.log", "w")  # noqa: SIM115 - the daemon's log, open while it runs
        procs.append(
            subprocess.Popen(
                [str(VENV_BIN / "spark-class"), *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env(),
                cwd=work,
                start_new_session=True,
            )
        )

    start(
        "master",
        "org.apache.spark.deploy.master.Master",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--webui-port",
        str(ui),
    )
    for i in (1, 2):
        start(
            f"worker{i}",
            "org.apache.spark.deploy.worker.Worker",
            "--host",
            "127.0.0.1",
            "--cores",
            "1",
            "--memory",
            "3g",
            "--webui-port",
            str(free_port()),
            "--work-dir",
            str(work / f"worker{i}"),
            url,
        )
    try:
        deadline = time.time() + 120
        while alive_workers(ui) < 2:
            if time.time() > deadline or any(p.poll() is not None for p in procs):
                logs = "\n".join((work / f"{n}.log").read_text()[-2000:] for n in ("master", "worker1", "worker2"))
                pytest.fail(f"standalone cluster did not come up with 2 workers:\n{logs}")
            time.sleep(1)
        yield url, work
    finally:
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def dist_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist") / "reviewlake.zip"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_dist.py"), str(out)], check=True)
    return out


def submit(url: str, dist_zip: Path, script: str, *args: str) -> str:
    cmd = [
        str(VENV_BIN / "spark-submit"),
        "--master",
        url,
        "--py-files",
        str(dist_zip),
        "--driver-memory",
        "2g",
        "--executor-memory",
        "2g",
        "--executor-cores",
        "1",
        "--conf",
        "spark.cores.max=2",
        str(ROOT / script),
        *args,
    ]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900
    )
    assert proc.returncode == 0, f"{script} failed on the cluster (exit {proc.returncode}):\n{proc.stdout[-4000:]}"
    return proc.stdout


def test_executors_import_the_shipped_package(cluster, dist_zip):
    url, work = cluster
    out = submit(url, dist_zip, "tests/system/cluster_probe.py")
    probe = json.loads(next(line for line in out.splitlines() if line.startswith("PROBE "))[len("PROBE ") :])
    assert probe["master"] == url
    # one executor per worker, each in its worker's work dir, importing from the shipped zip
    assert len(probe["executors"]) == 2
    assert {Path(d).parts[-3] for d in probe["executors"]} == {"worker1", "worker2"}
    assert all("reviewlake.zip" in f for f in probe["package_from"]), probe["package_from"]


def test_cluster_tables_equal_local_tables(spark, cluster, dist_zip, corpus_sample, reference_lake, tmp_path):
    url, _ = cluster
    remote, local = tmp_path / "cluster_lake", reference_lake.root / "lakehouse"  # local: the same sample, local[2]
    common = ["--conf", f"reports_dir={tmp_path / 'reports'}"]
    log = submit(
        url, dist_zip, "pipelines/clean_reviews.py", "--input", str(corpus_sample), "--lakehouse", str(remote), *common
    )
    assert f"master={url}" in log
    submit(url, dist_zip, "pipelines/build_features.py", "--lakehouse", str(remote), *common)

    assert_same_tables(spark, remote, local)

    # Horovod on Spark over the two workers: two ranks, one per executor slot
    models = tmp_path / "models"
    submit(
        url,
        dist_zip,
        "pipelines/train_model.py",
        "--lakehouse",
        str(remote),
        *common,
        "--conf",
        f"models_dir={models}",
        "--conf",
        "train.num_proc=2",
        "--conf",
        "train.epochs=1",
        "--conf",
        "train.embedding_dim=16",
        "--conf",
        "train.lstm_units=8",
        "--conf",
        "train.logreg_max_iter=10",
    )
    params = json.loads((models / (models / "LATEST").read_text().strip() / "params.json").read_text())
    assert params["num_proc"] == 2
    assert json.loads((models / (models / "LATEST").read_text().strip() / "metrics.json").read_text())["accuracy"] > 0

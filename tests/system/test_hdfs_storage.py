"""Storage given as URIs, on a real HDFS: a MiniDFSCluster (Hadoop's own in-process NameNode and
DataNode, ``hadoop-client-minicluster``, fetched by ``make setup`` into ``jars/test/``) is started
on loopback; ``clean_reviews`` reads its landing files from ``hdfs://…`` and writes every table
(and its run lock) there, ``build_features`` reads and writes gold there too, and the tables
equal those of the same jobs run on the local file system given as ``file://`` URIs. ``s3a://``
takes the same code path (Hadoop FileSystem by scheme); only its jar and settings differ (docs/cluster.md,
"Storage URIs")."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pyspark
import pytest

from reviewlake.core.storage import hadoop_fs
from reviewlake.jobs import build_features, clean_reviews
from tests.integration.helpers import assert_same_tables, comparable, free_port, versions

ROOT = Path(__file__).resolve().parents[2]
TEST_JARS = ROOT / "jars" / "test"


def java() -> str:
    home = os.environ.get("JAVA_HOME")
    return str(Path(home) / "bin" / "java") if home else (shutil.which("java") or "java")


@pytest.fixture(scope="module")
def hdfs(tmp_path_factory):
    """``hdfs://127.0.0.1:<port>`` of a one-DataNode MiniDFSCluster; stopped at the end."""
    if not list(TEST_JARS.glob("hadoop-client-minicluster-*.jar")):
        pytest.fail(f"no hadoop-client-minicluster jar in {TEST_JARS}: run `make setup`")
    work = tmp_path_factory.mktemp("hdfs")
    details, port = work / "details.json", free_port()
    classpath = os.pathsep.join([str(Path(pyspark.__file__).parent / "jars" / "*"), str(TEST_JARS / "*")])
    log = open(work / "minidfs.log", "w")  # noqa: SIM115 - the server's log, open while it runs
    proc = subprocess.Popen(
        [
            java(),
            "-Xmx1g",
            f"-Dtest.build.data={work / 'data'}",
            "-cp",
            classpath,
            "org.apache.hadoop.test.MiniDFSClusterManager",
            "-format",
            "-datanodes",
            "1",
            "-nnport",
            str(port),
            "-writeDetails",
            str(details),
            "-D",
            "dfs.replication=1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=work,
        start_new_session=True,
    )
    log.close()  # the child holds its own copy
    try:
        deadline = time.time() + 120
        while not (details.exists() and details.stat().st_size):
            if time.time() > deadline or proc.poll() is not None:
                pytest.fail(f"MiniDFSCluster did not start:\n{(work / 'minidfs.log').read_text()[-3000:]}")
            time.sleep(0.5)
        assert json.loads(details.read_text())["namenode_port"] == port
        yield f"hdfs://127.0.0.1:{port}"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def put(spark, local: Path, uri: str) -> None:
    """Copy a local folder to ``uri`` through Hadoop FileSystem."""
    fs, path = hadoop_fs(spark, uri)
    fs.copyFromLocalFile(False, True, spark.sparkContext._jvm.org.apache.hadoop.fs.Path(local.as_uri()), path)


def write_landing(corpus_sample: Path, folder: Path) -> None:
    """The real sample as JSONL with source review ids, so both storages give the same ids (ids
    minted from the file URI would differ between ``hdfs://`` and ``file:``)."""
    folder.mkdir(parents=True)
    lines = []
    for name, rating in (("pos.txt", 5), ("neg.txt", 1)):
        for i, text in enumerate((corpus_sample / name).read_text(encoding="utf-8").splitlines()):
            lines.append(
                json.dumps(
                    {
                        "id": f"{name[:3]}-{i}",
                        "text": text,
                        "rating": rating,
                        "created_at": f"2024-01-01 00:{i // 60 % 60:02d}:{i % 60:02d}",
                    },
                    ensure_ascii=False,
                )
            )
    (folder / "reviews.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_jobs_on_hdfs_equal_jobs_on_local_files(spark, hdfs, corpus_sample, tmp_path):
    landing = tmp_path / "landing"
    write_landing(corpus_sample, landing)
    put(spark, landing, f"{hdfs}/landing")
    local_lake = (tmp_path / "lake").as_uri()  # file:///…: the URI form of a local path
    remote_lake = f"{hdfs}/lake"
    common = ["--conf", f"reports_dir={tmp_path / 'reports'}"]
    for source, lake in ((f"{hdfs}/landing", remote_lake), (landing.as_uri(), local_lake)):
        assert clean_reviews.main(["--input", source, "--lakehouse", lake, *common]) == 0
        assert build_features.main(["--lakehouse", lake, *common]) == 0

    # the remote run wrote to HDFS, not to some local folder named after the URI
    fs, path = hadoop_fs(spark, f"{remote_lake}/silver/reviews/_delta_log")
    assert fs.exists(path) and fs.getUri().getScheme() == "hdfs"
    bronze = comparable(spark, remote_lake, "bronze", "reviews_raw")
    assert bronze.where(~bronze.source_file.startswith(f"{hdfs}/landing/")).count() == 0
    assert bronze.count() > 0

    assert_same_tables(spark, remote_lake, local_lake)

    # a rerun on HDFS finds nothing new: no table gets a new version
    before = versions(spark, remote_lake)
    assert clean_reviews.main(["--input", f"{hdfs}/landing", "--lakehouse", remote_lake, *common]) == 0
    assert versions(spark, remote_lake) == before

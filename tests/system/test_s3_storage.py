"""An ``s3a://`` lakehouse, really run: a local S3 server (moto in server mode, on a free port,
started and stopped here) holds the landing files and the lakehouse; ``clean_reviews`` and
``build_features`` run through spark-submit with S3A's jars (``make s3-jars``: hadoop-aws 3.4.1 and
the AWS SDK bundle) and give the tables a local run gives. The run lock there is a conditional
write (``If-None-Match: *``): of two runs started at once against one bucket, exactly one works and
the other exits 5 with its one-line message."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from reviewlake.core import lineage
from reviewlake.core.s3_store import S3Store
from reviewlake.core.spark import DELTA_JARS
from reviewlake.jobs import build_features, clean_reviews
from tests.integration.helpers import assert_same_tables, comparable, free_port
from tests.system import submit
from tests.system.test_hdfs_storage import write_landing

ROOT = Path(__file__).resolve().parents[2]
S3_JARS = ROOT / "jars" / "s3"
BUCKET = "reviews"
KEYS = {"access.key": "testing", "secret.key": "testing", "endpoint.region": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint(tmp_path_factory):
    """``http://127.0.0.1:<port>`` of a moto S3 server holding an empty bucket; stopped at the end."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = s3_client(endpoint)
        deadline = time.time() + 60
        while True:
            try:
                client.create_bucket(Bucket=BUCKET)
                break
            except Exception:  # noqa: BLE001 - not listening yet: retried until the deadline
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail(f"moto server did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.5)
        yield endpoint
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def s3_client(endpoint: str):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=KEYS["access.key"],
        aws_secret_access_key=KEYS["secret.key"],
        region_name=KEYS["endpoint.region"],
    )


def s3a_settings(endpoint: str) -> dict[str, str]:
    """The S3A settings a user puts under ``spark.conf`` for an S3-compatible store."""
    return {
        "endpoint": endpoint,
        "path.style.access": "true",
        "connection.ssl.enabled": "false",
        "aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
        **KEYS,
    }


def submit_args(endpoint: str) -> list[str]:
    """spark-submit's own arguments for S3: the jars and the S3A settings."""
    s3_jars = sorted(S3_JARS.glob("*.jar"))
    if len(s3_jars) < 2:
        pytest.fail(f"S3A jars missing in {S3_JARS}: run `make s3-jars`")
    # --jars replaces the spark.jars of spark-submit's defaults: Delta's and the listener's again
    jars = [ROOT / "jars" / name for name in (*DELTA_JARS, lineage.JAR)] + s3_jars
    args = ["--driver-memory", "2g", "--jars", ",".join(map(str, jars))]
    for key, value in s3a_settings(endpoint).items():
        args += ["--conf", f"spark.hadoop.fs.s3a.{key}={value}"]
    return args


def upload(endpoint: str, folder: Path, prefix: str) -> None:
    client = s3_client(endpoint)
    for path in sorted(folder.iterdir()):
        client.upload_file(str(path), BUCKET, f"{prefix}/{path.name}")


def download(endpoint: str, prefix: str, folder: Path) -> None:
    """Every object under ``prefix`` into ``folder`` (Delta logs hold paths relative to the table,
    so the copy reads as the same tables)."""
    client = s3_client(endpoint)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{prefix}/"):
        for item in page.get("Contents", []):
            target = folder / item["Key"][len(prefix) + 1 :]
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(BUCKET, item["Key"], str(target))


def test_s3_lock_store_creates_once_by_a_conditional_write(s3_endpoint):
    store = S3Store({f"fs.s3a.{k}": v for k, v in s3a_settings(s3_endpoint).items()})
    uri = f"s3a://{BUCKET}/lock-test/_locks/job.lock"
    assert store.create(uri, b"first")
    assert not store.create(uri, b"second")  # S3 refused it: 412 PreconditionFailed
    assert store.read(uri)[0] == b"first"
    assert store.rename(uri, uri + ".aside") and store.read(uri) is None
    assert store.read(uri + ".aside")[0] == b"first"
    store.delete(uri + ".aside")
    assert store.read(uri + ".aside") is None and store.create(uri, b"again")


def test_jobs_on_s3_equal_jobs_on_local_files(spark, s3_endpoint, corpus_sample, tmp_path):
    landing = tmp_path / "landing"
    write_landing(corpus_sample, landing)
    upload(s3_endpoint, landing, "landing")
    lake, reports = f"s3a://{BUCKET}/lake", f"reports_dir={tmp_path / 'reports'}"
    for job, args in (("clean_reviews", ["--input", f"s3a://{BUCKET}/landing"]), ("build_features", [])):
        proc = submit.run(job, [*args, "--lakehouse", lake, "--conf", reports], submit_args(s3_endpoint))
        assert proc.returncode == 0, proc.stdout[-4000:]
    local_lake = (tmp_path / "local").as_uri()
    assert clean_reviews.main(["--input", landing.as_uri(), "--lakehouse", local_lake, "--conf", reports]) == 0
    assert build_features.main(["--lakehouse", local_lake, "--conf", reports]) == 0

    mirror = tmp_path / "mirror"
    download(s3_endpoint, "lake", mirror)
    assert not list(mirror.glob("_locks/*.lock"))  # both runs gave their locks back
    bronze = comparable(spark, mirror, "bronze", "reviews_raw")
    assert bronze.count() > 0
    assert bronze.where(~bronze.source_file.startswith(f"s3a://{BUCKET}/landing/")).count() == 0
    assert_same_tables(spark, mirror, local_lake)


def test_two_runs_at_once_on_one_bucket_one_works_the_other_exits_5(s3_endpoint, small_landing, tmp_path):
    upload(s3_endpoint, small_landing, "landing-twice")
    args = ["--input", f"s3a://{BUCKET}/landing-twice", "--lakehouse", f"s3a://{BUCKET}/twice"]
    args += ["--conf", "lock.wait_s=0", "--conf", f"reports_dir={tmp_path / 'reports'}"]
    procs = [submit.popen("clean_reviews", args, submit_args(s3_endpoint)) for _ in range(2)]
    outputs = [p.communicate(timeout=900)[0] for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 5], "\n---\n".join(o[-3000:] for o in outputs)
    loser = outputs[codes.index(5)]
    (line,) = submit.error_lines(loser, "clean_reviews")
    assert "clean_reviews is already running on this lakehouse" in line
    assert f"s3a://{BUCKET}/twice/_locks/clean_reviews.lock" in line


def test_jars_that_leave_delta_out_stop_the_run_with_one_line(s3_endpoint, tmp_path):
    s3_only = ",".join(map(str, sorted(S3_JARS.glob("*.jar"))))
    args = ["--input", f"s3a://{BUCKET}/landing", "--lakehouse", f"s3a://{BUCKET}/never"]
    proc = submit.run("clean_reviews", [*args, "--conf", f"reports_dir={tmp_path}"], ["--jars", s3_only])
    (line,) = submit.error_lines(proc.stdout, "clean_reviews")
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert "the Delta jars are not on the driver's classpath" in line and "delta-spark_2.13-4.0.1.jar" in line

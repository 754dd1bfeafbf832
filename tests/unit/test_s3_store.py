"""The S3 lock store's client comes from the same ``fs.s3a.*`` settings S3A reads."""

from __future__ import annotations

from reviewlake.core.lock import LocalStore, store_for
from reviewlake.core.s3_store import S3Store, bucket_key, client_kwargs, s3_settings


def test_per_bucket_settings_win_over_the_general_ones():
    conf = {
        "fs.s3a.endpoint": "s3.eu-west-1.amazonaws.com",
        "fs.s3a.bucket.lake.endpoint": "minio:9000",
        "fs.s3a.access.key": " key ",
        "fs.s3a.secret.key": "secret",
    }
    assert s3_settings(conf, "lake") == {"endpoint": "minio:9000", "access.key": "key", "secret.key": "secret"}
    assert s3_settings(conf, "other")["endpoint"] == "s3.eu-west-1.amazonaws.com"


def test_client_arguments_follow_s3a():
    kwargs = client_kwargs(
        {
            "endpoint": "minio:9000",
            "connection.ssl.enabled": "false",
            "endpoint.region": "eu-west-1",
            "path.style.access": "true",
            "access.key": "k",
            "secret.key": "s",
        }
    )
    assert kwargs["endpoint_url"] == "http://minio:9000" and kwargs["region_name"] == "eu-west-1"
    assert (kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"]) == ("k", "s")
    assert kwargs["config"].s3 == {"addressing_style": "path"}
    plain = client_kwargs({"endpoint": "s3.eu-west-1.amazonaws.com"})
    assert plain["endpoint_url"] == "https://s3.eu-west-1.amazonaws.com"
    assert "aws_access_key_id" not in plain  # boto3's own chain: environment, profile, instance role
    assert "endpoint_url" not in client_kwargs({})


def test_the_store_follows_the_scheme():
    class Session:
        class sparkContext:
            class _jsc:
                @staticmethod
                def hadoopConfiguration():
                    return {}

    assert bucket_key("s3a://lake/a/_locks/j.lock") == ("lake", "a/_locks/j.lock")
    assert isinstance(store_for("file:/tmp/x.lock", lambda: None), LocalStore)
    assert isinstance(store_for("s3a://lake/_locks/j.lock", Session), S3Store)

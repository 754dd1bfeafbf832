"""Run-lock files on S3 (``s3a://`` lakehouses), created by a conditional write.

S3A in Hadoop 3.4.1 creates a file with ``overwrite=false`` by asking whether it exists and then
writing it: two runs can both pass the check. S3 itself refuses a ``PutObject`` with
``If-None-Match: *`` when the key exists (412 ``PreconditionFailed``; 409
``ConditionalRequestConflict`` while another conditional write of the key is in flight), so of
two runs that create the lock at once exactly one gets it. boto3 sends that header; S3A does not.

The client is configured from the session's Hadoop settings, the same ones S3A reads
(``fs.s3a.endpoint``, ``fs.s3a.endpoint.region``, ``fs.s3a.path.style.access``,
``fs.s3a.connection.ssl.enabled``, ``fs.s3a.access.key``/``secret.key``/``session.token``; a
per-bucket ``fs.s3a.bucket.<bucket>.<key>`` wins), so whoever configured S3A configured the
lock too. Without keys in those settings boto3's own chain applies (environment, profile,
instance role).

Taking over a stale lock (:func:`reviewlake.core.lock.acquire`) renames it aside; S3 has no
rename, so here it is a copy and a delete: not atomic, and the check that follows it in
``acquire`` (was what we moved the lock we judged stale?) is what keeps two takeovers apart.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

_REFUSED = {"PreconditionFailed", "ConditionalRequestConflict"}
_MISSING = {"NoSuchKey", "404", "NotFound"}


def s3_settings(hadoop_conf: Any, bucket: str) -> dict[str, str]:
    """The S3A settings that locate and sign requests to ``bucket`` (per-bucket ones first)."""
    keys = (
        "endpoint",
        "endpoint.region",
        "path.style.access",
        "connection.ssl.enabled",
        "access.key",
        "secret.key",
        "session.token",
    )
    found = {}
    for key in keys:
        value = hadoop_conf.get(f"fs.s3a.bucket.{bucket}.{key}") or hadoop_conf.get(f"fs.s3a.{key}")
        if value:
            found[key] = value.strip()
    return found


def client_kwargs(settings: dict[str, str]) -> dict[str, Any]:
    """``boto3.client("s3", **kwargs)`` for these S3A settings (pure: tested without S3)."""
    from botocore.config import Config

    kwargs: dict[str, Any] = {}
    endpoint = settings.get("endpoint")
    if endpoint:
        if "://" not in endpoint:
            ssl = settings.get("connection.ssl.enabled", "true").lower() != "false"
            endpoint = ("https://" if ssl else "http://") + endpoint
        kwargs["endpoint_url"] = endpoint
    if settings.get("endpoint.region"):
        kwargs["region_name"] = settings["endpoint.region"]
    if settings.get("access.key") and settings.get("secret.key"):
        kwargs["aws_access_key_id"] = settings["access.key"]
        kwargs["aws_secret_access_key"] = settings["secret.key"]
        if settings.get("session.token"):
            kwargs["aws_session_token"] = settings["session.token"]
    path_style = settings.get("path.style.access", "false").lower() == "true"
    kwargs["config"] = Config(s3={"addressing_style": "path" if path_style else "auto"})
    return kwargs


def bucket_key(uri: str) -> tuple[str, str]:
    """``("bucket", "a/b")`` for ``s3a://bucket/a/b``."""
    parsed = urlparse(uri)
    return parsed.netloc, parsed.path.lstrip("/")


class S3Store:
    """:class:`reviewlake.core.lock.LockStore` on S3: conditional create, copy-and-delete rename."""

    def __init__(self, hadoop_conf: Any):
        """``hadoop_conf``: anything with ``get(key)`` (a session's Hadoop configuration, a dict)."""
        self._hadoop_conf = hadoop_conf
        self._clients: dict[str, Any] = {}

    def _client(self, bucket: str) -> Any:
        if bucket not in self._clients:
            import boto3

            self._clients[bucket] = boto3.client("s3", **client_kwargs(s3_settings(self._hadoop_conf, bucket)))
        return self._clients[bucket]

    def create(self, uri: str, data: bytes) -> bool:
        from botocore.exceptions import ClientError

        bucket, key = bucket_key(uri)
        try:
            self._client(bucket).put_object(Bucket=bucket, Key=key, Body=data, IfNoneMatch="*")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _REFUSED:
                return False
            raise
        return True

    def read(self, uri: str) -> tuple[bytes, float] | None:
        from botocore.exceptions import ClientError

        bucket, key = bucket_key(uri)
        try:
            got = self._client(bucket).get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return got["Body"].read(), got["LastModified"].timestamp()

    def rename(self, src: str, dst: str) -> bool:
        found = self.read(src)
        if found is None:
            return False
        bucket, key = bucket_key(dst)
        self._client(bucket).put_object(Bucket=bucket, Key=key, Body=found[0])
        self.delete(src)
        return True

    def delete(self, uri: str) -> None:
        bucket, key = bucket_key(uri)
        self._client(bucket).delete_object(Bucket=bucket, Key=key)

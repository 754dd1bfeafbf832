"""Per-lakehouse, per-job run lock: two runs of one job on one lakehouse never overlap.

The lock is a small JSON file ``<lakehouse>/_locks/<job>.lock`` naming its owner (job, host,
pid, run_id, started_at), created only if absent and removed when the run ends (also on an
exception). A second run finds the file and fails with :class:`LockHeldError` (exit 5), or waits
up to ``lock.wait_s`` seconds for it. A lock whose owner is gone is taken over with a warning:
owner pid no longer alive on this host, or the lock older than ``lock.stale_after_s``.

Where the lock file lives decides how atomic "create if absent" is:

* ``file:`` lakehouses use ``open(O_CREAT | O_EXCL)``, atomic on a local POSIX disk. (Hadoop's
  local ``FileSystem.create(path, overwrite=False)`` checks ``exists`` and then creates: two
  processes can both pass the check, so it is not used here.)
* ``s3a:`` (and ``s3:``) lakehouses use S3's conditional write, ``PutObject`` with
  ``If-None-Match: *`` (:mod:`reviewlake.core.s3_store`, boto3 configured from the session's
  S3A settings): S3 refuses the second of two creates. S3A itself would check and then write.
* Every other scheme goes through Hadoop ``FileSystem.create(path, overwrite=False)``: atomic
  on HDFS (the NameNode creates the file or refuses).

Taking over a stale lock moves it aside with a rename first, so of several runs that found the
same stale lock only one removes it; the others then meet the new owner's lock.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from reviewlake.core import tables
from reviewlake.core.settings import Settings
from reviewlake.core.storage import hadoop_fs
from reviewlake.core.uris import local_path
from reviewlake.errors import LockHeldError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Owner:
    job: str
    host: str
    pid: int
    run_id: str
    started_at: float  # epoch seconds

    def to_bytes(self) -> bytes:
        d = asdict(self)
        d["started_at_utc"] = datetime.fromtimestamp(self.started_at, UTC).isoformat(timespec="seconds")
        return json.dumps(d, sort_keys=True).encode("utf-8")

    def describe(self) -> str:
        since = datetime.fromtimestamp(self.started_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"run {self.run_id}, pid {self.pid} on {self.host}, since {since}"


def parse_owner(data: bytes) -> Owner | None:
    """The owner recorded in a lock file; ``None`` for a file still being written or foreign."""
    try:
        d = json.loads(data.decode("utf-8"))
        return Owner(str(d["job"]), str(d["host"]), int(d["pid"]), str(d["run_id"]), float(d["started_at"]))
    except (ValueError, KeyError, TypeError):
        return None


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def stale_reason(
    owner: Owner | None, age_s: float, stale_after_s: float, host: str, alive: Callable[[int], bool] = pid_alive
) -> str | None:
    """Why a found lock may be taken over, or ``None`` while its owner may still be running.

    ``age_s`` is the lock's age (from ``started_at``, or the file's mtime when unreadable)."""
    if owner is not None and owner.host == host and not alive(owner.pid):
        return f"its owner ({owner.describe()}) is no longer running"
    if age_s > stale_after_s:
        who = owner.describe() if owner else "unreadable lock file"
        return f"it is {age_s:.0f} s old, over lock.stale_after_s = {stale_after_s:g} ({who})"
    return None


# ----------------------------------------------------------------------------- storage (I/O)
class LockStore(Protocol):
    def create(self, uri: str, data: bytes) -> bool: ...  # False if the file exists
    def read(self, uri: str) -> tuple[bytes, float] | None: ...  # (content, mtime epoch s)
    def rename(self, src: str, dst: str) -> bool: ...  # False if src is gone
    def delete(self, uri: str) -> None: ...


class LocalStore:
    """Lock files on a local disk: ``O_EXCL`` create, POSIX rename."""

    def create(self, uri: str, data: bytes) -> bool:
        path = local_path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return True

    def read(self, uri: str) -> tuple[bytes, float] | None:
        path = local_path(uri)
        try:
            return path.read_bytes(), path.stat().st_mtime
        except FileNotFoundError:
            return None

    def rename(self, src: str, dst: str) -> bool:
        try:
            os.rename(local_path(src), local_path(dst))
        except FileNotFoundError:
            return False
        return True

    def delete(self, uri: str) -> None:
        local_path(uri).unlink(missing_ok=True)


class HadoopStore:
    """Lock files through Hadoop FileSystem (``hdfs:``, ``s3a:``, ...) of a running SparkSession."""

    def __init__(self, spark: Any):
        self._spark = spark
        self._jvm = spark.sparkContext._jvm

    def _fs(self, uri: str):
        return hadoop_fs(self._spark, uri)

    def create(self, uri: str, data: bytes) -> bool:
        fs, path = self._fs(uri)
        if fs.exists(path):
            return False
        try:
            out = fs.create(path, False)
        except Exception:
            if fs.exists(path):
                return False
            raise
        try:
            out.write(bytearray(data))
        finally:
            out.close()  # HDFS: the file is complete once closed
        return True

    def read(self, uri: str) -> tuple[bytes, float] | None:
        fs, path = self._fs(uri)
        if not fs.exists(path):
            return None
        try:
            mtime = fs.getFileStatus(path).getModificationTime() / 1000.0
            stream = fs.open(path)
            try:
                text = self._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
            finally:
                stream.close()
        except Exception:
            if fs.exists(path):
                raise
            return None
        return text.encode("utf-8"), mtime

    def rename(self, src: str, dst: str) -> bool:
        fs, path = self._fs(src)
        return bool(fs.rename(path, self._jvm.org.apache.hadoop.fs.Path(dst)))

    def delete(self, uri: str) -> None:
        fs, path = self._fs(uri)
        fs.delete(path, False)


# ----------------------------------------------------------------------------- acquire/release
def acquire(
    store: LockStore,
    uri: str,
    owner: Owner,
    stale_after_s: float,
    *,
    host: str | None = None,
    now: Callable[[], float] = time.time,
    alive: Callable[[int], bool] = pid_alive,
) -> None:
    """Create the lock for ``owner``, taking over a stale one; raise :class:`LockHeldError`."""
    host = host or socket.gethostname()
    mine = owner.to_bytes()
    for _ in range(5):  # a few rounds: the lock may be released or taken over meanwhile
        if store.create(uri, mine):
            return
        found = store.read(uri)
        if found is None:
            continue
        data, mtime = found
        holder = parse_owner(data)
        age = now() - (holder.started_at if holder else mtime)
        reason = stale_reason(holder, age, stale_after_s, host, alive)
        if reason is None:
            raise LockHeldError(_held_message(owner.job, holder, uri))
        aside = f"{uri}.stale-{owner.run_id}"
        if not store.rename(uri, aside):
            continue  # someone else moved it first
        moved = store.read(aside)
        store.delete(aside)
        if moved is not None and moved[0] != data:
            # We moved a lock taken in the meantime by another run: give it back, then yield.
            store.create(uri, moved[0])
            raise LockHeldError(_held_message(owner.job, parse_owner(moved[0]), uri))
        log.warning("taking over the stale lock %s: %s", uri, reason)
    raise LockHeldError(f"{owner.job}: could not take the lock {uri} (other runs keep taking it)")


def release(store: LockStore, uri: str, owner: Owner) -> None:
    """Remove the lock if it is still ``owner``'s (a run judged stale may have lost it)."""
    found = store.read(uri)
    if found is None:
        log.warning("lock %s was already gone at the end of %s", uri, owner.describe())
    elif found[0] != owner.to_bytes():
        holder = parse_owner(found[0])
        log.warning(
            "lock %s now belongs to %s: left in place", uri, holder.describe() if holder else "an unreadable owner"
        )
    else:
        store.delete(uri)


def _held_message(job: str, holder: Owner | None, uri: str) -> str:
    who = holder.describe() if holder else "an owner whose lock file is unreadable"
    return (
        f"{job} is already running on this lakehouse ({who}); lock {uri}. "
        f"If that run is dead, delete the lock file or wait for lock.stale_after_s"
    )


# ----------------------------------------------------------------------------- the job's lock
def lock_uri(cfg: Settings, job: str) -> str:
    return tables.under(cfg, "_locks", f"{job}.lock")


def store_for(uri: str, spark_factory: Callable[[], Any]) -> LockStore:
    """Where the lock file is made: local disk (``O_EXCL``), S3 (a conditional write), else Hadoop."""
    if uri.startswith("file:"):
        return LocalStore()
    if uri.startswith(("s3a:", "s3:")):
        from reviewlake.core.s3_store import S3Store

        return S3Store(spark_factory().sparkContext._jsc.hadoopConfiguration())
    return HadoopStore(spark_factory())


@contextmanager
def run_lock(cfg: Settings, job: str, run_id: str, spark_factory: Callable[[], Any]) -> Iterator[Owner]:
    """Hold ``job``'s lock on the configured lakehouse for the body; wait up to ``lock.wait_s``."""
    uri = lock_uri(cfg, job)
    store = store_for(uri, spark_factory)
    stale_after = cfg.lock.stale_after_s
    wait_s, poll_s = cfg.lock.wait_s, cfg.lock.poll_s
    deadline = time.monotonic() + wait_s
    while True:
        owner = Owner(job, socket.gethostname(), os.getpid(), run_id, time.time())
        try:
            acquire(store, uri, owner, stale_after)
            break
        except LockHeldError as exc:
            if time.monotonic() + poll_s > deadline:
                raise
            log.info("waiting for the lock (up to %.0f s more): %s", deadline - time.monotonic(), exc)
            time.sleep(poll_s)
    log.debug("lock %s taken (%s)", uri, owner.describe())
    try:
        yield owner
    finally:
        release(store, uri, owner)


def job_lock(cfg: Settings, job: str, run_id: str, spark_factory: Callable[[], Any]) -> AbstractContextManager:
    """:func:`run_lock`, or nothing when ``lock.enabled`` is false."""
    if not cfg.lock.enabled:
        return nullcontext()
    return run_lock(cfg, job, run_id, spark_factory)

"""The per-lakehouse, per-job run lock (reviewlake/core/lock.py) on the local store, and its
wiring into every job's entry point through reviewlake.core.job.Job."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from reviewlake import errors
from reviewlake.core.job import Job
from reviewlake.core.lock import LocalStore, Owner, acquire, lock_uri, parse_owner, run_lock, stale_reason
from reviewlake.errors import LockHeldError

HOST = socket.gethostname()


def owner(run_id: str = "r1", pid: int | None = None, host: str = HOST, started_at: float | None = None) -> Owner:
    return Owner(
        "build_features",
        host,
        os.getpid() if pid is None else pid,
        run_id,
        time.time() if started_at is None else started_at,
    )


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def lock_file(tmp_path) -> str:
    return "file:" + str(tmp_path / "lakehouse" / "_locks" / "build_features.lock")


def test_owner_round_trips_and_foreign_content_is_unreadable():
    o = owner()
    assert parse_owner(o.to_bytes()) == o
    assert json.loads(o.to_bytes())["started_at_utc"].endswith("+00:00")
    assert parse_owner(b"") is None and parse_owner(b'{"job": "x"') is None


def test_stale_reason():
    alive, dead = (lambda pid: True), (lambda pid: False)
    assert stale_reason(owner(), 5, 60, HOST, alive) is None
    assert "no longer running" in stale_reason(owner(), 5, 60, HOST, dead)
    # a pid on another host cannot be checked: only the age counts there
    assert stale_reason(owner(host="elsewhere"), 5, 60, HOST, dead) is None
    assert "over lock.stale_after_s" in stale_reason(owner(host="elsewhere"), 61, 60, HOST, alive)
    assert stale_reason(None, 5, 60, HOST, alive) is None  # being written: wait
    assert "unreadable" in stale_reason(None, 61, 60, HOST, alive)


def test_second_acquisition_fails_with_exit_code_5(lock_file):
    store = LocalStore()
    acquire(store, lock_file, owner("first"), 3600)
    with pytest.raises(LockHeldError) as err:
        acquire(store, lock_file, owner("second"), 3600)
    assert err.value.code == errors.EXIT_LOCKED == 5
    assert "already running" in str(err.value) and "run first" in str(err.value)
    assert parse_owner(store.read(lock_file)[0]).run_id == "first"


def test_lock_is_released_on_exception_and_can_be_taken_again(make_cfg):
    cfg = make_cfg()
    uri = lock_uri(cfg, "build_features")
    with pytest.raises(RuntimeError, match="boom"), run_lock(cfg, "build_features", "r1", spark_factory=None):
        assert LocalStore().read(uri) is not None
        raise RuntimeError("boom")
    assert LocalStore().read(uri) is None
    with run_lock(cfg, "build_features", "r2", spark_factory=None) as o:
        assert o.run_id == "r2"
    assert LocalStore().read(uri) is None


def test_lock_of_a_dead_pid_on_this_host_is_taken_over(lock_file, caplog):
    store = LocalStore()
    assert store.create(lock_file, owner("crashed", pid=dead_pid()).to_bytes())
    with caplog.at_level(logging.WARNING, logger="reviewlake.core.lock"):
        acquire(store, lock_file, owner("next"), 3600)
    assert parse_owner(store.read(lock_file)[0]).run_id == "next"
    assert "taking over the stale lock" in caplog.text and "no longer running" in caplog.text
    assert not any(".stale-" in p for p in os.listdir(os.path.dirname(lock_file[5:])))


def test_lock_older_than_stale_after_is_taken_over_a_fresh_one_is_not(lock_file):
    store = LocalStore()
    store.create(lock_file, owner("other-host", host="node-7", started_at=time.time() - 7200).to_bytes())
    with pytest.raises(LockHeldError):
        acquire(store, lock_file, owner("mine"), stale_after_s=3 * 3600)
    acquire(store, lock_file, owner("mine"), stale_after_s=3600)
    assert parse_owner(store.read(lock_file)[0]).run_id == "mine"


def test_unreadable_lock_is_held_while_young_and_taken_over_when_old(lock_file):
    store = LocalStore()
    store.create(lock_file, b"")  # a lock file caught while being written
    with pytest.raises(LockHeldError, match="unreadable"):
        acquire(store, lock_file, owner("mine"), 3600)
    old = time.time() - 7200
    os.utime(lock_file[5:], (old, old))
    acquire(store, lock_file, owner("mine"), 3600)
    assert parse_owner(store.read(lock_file)[0]).run_id == "mine"


def test_release_leaves_a_lock_that_another_run_took_over(make_cfg, caplog):
    cfg = make_cfg()
    uri = lock_uri(cfg, "build_features")
    with (
        caplog.at_level(logging.WARNING, logger="reviewlake.core.lock"),
        run_lock(cfg, "build_features", "slow", spark_factory=None),
    ):
        LocalStore().delete(uri)
        LocalStore().create(uri, owner("usurper").to_bytes())
    assert parse_owner(LocalStore().read(uri)[0]).run_id == "usurper"
    assert "now belongs to" in caplog.text


def _contend(uri: str, barrier, results, i: int) -> None:
    barrier.wait()
    try:
        acquire(LocalStore(), uri, owner(f"p{i}"), 3600)
        results.put(i)
        time.sleep(1.0)
    except LockHeldError:
        pass


def test_of_processes_started_at_once_exactly_one_gets_the_lock(lock_file):
    ctx = multiprocessing.get_context("fork")
    n = 6
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_contend, args=(lock_file, barrier, results, i)) for i in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    winners = []
    while not results.empty():
        winners.append(results.get())
    assert len(winners) == 1
    assert parse_owner(LocalStore().read(lock_file)[0]).run_id == f"p{winners[0]}"


def test_a_waiting_run_gets_the_lock_once_it_is_released(make_cfg):
    cfg = make_cfg("lock.wait_s=20", "lock.poll_s=0.2")
    uri = lock_uri(cfg, "build_features")
    LocalStore().create(uri, owner("holder").to_bytes())
    threading.Timer(0.6, LocalStore().delete, args=(uri,)).start()
    start = time.monotonic()
    with run_lock(cfg, "build_features", "waiter", spark_factory=None) as o:
        assert o.run_id == "waiter"
    assert 0.5 < time.monotonic() - start < 15


def test_every_job_entry_point_takes_the_lock(make_cfg, tmp_path, capsys):
    """A second build_features on a lakehouse whose lock is held exits 5 before doing anything."""
    from reviewlake.jobs import build_features

    cfg = make_cfg()
    uri = lock_uri(cfg, "build_features")
    LocalStore().create(uri, owner("nightly-1").to_bytes())
    code = build_features.main(["--lakehouse", str(tmp_path / "lakehouse")])
    assert code == 5
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("build_features: error: build_features is already running") and "nightly-1" in err
    assert parse_owner(LocalStore().read(uri)[0]).run_id == "nightly-1"  # the holder keeps it


def test_a_job_holds_the_lock_during_its_body_and_releases_it_on_failure(tmp_path):
    lake = tmp_path / "lakehouse"
    seen = {}

    def body(ctx, args):
        seen["held"] = LocalStore().read(lock_uri(ctx.cfg, "some_job")) is not None
        raise ValueError("bad row")

    job = Job("some_job", "x", body=body, report=False)
    code = job.main(["--lakehouse", str(lake)])
    assert code == errors.EXIT_ERROR and seen["held"]
    assert not (lake / "_locks" / "some_job.lock").exists()

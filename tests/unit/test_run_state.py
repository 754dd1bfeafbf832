"""The Spark-free no-op check (reviewlake/core/run_state.py): a run is skipped only when the
landing listing, every table's Delta version and the configuration equal the last successful
run's; anything else takes the full path."""

from __future__ import annotations

import os

import pytest

from reviewlake.core.config import load_config
from reviewlake.core.run_state import RunState, delta_version


def commit(table, version: int) -> None:
    log = table / "_delta_log"
    log.mkdir(parents=True, exist_ok=True)
    (log / f"{version:020d}.json").write_text("{}")


@pytest.fixture
def setup(tmp_path):
    landing, lake = tmp_path / "landing", tmp_path / "lake"
    (landing / "d").mkdir(parents=True)
    (landing / "d" / "a.txt").write_text("好")
    (landing / "b.csv").write_text("text\n好")
    tables = {"bronze": f"file:{lake}/bronze/reviews_raw", "silver": f"file:{lake}/silver/reviews"}
    commit(lake / "bronze" / "reviews_raw", 0)
    commit(lake / "silver" / "reviews", 0)

    def state(*overrides, inputs=(str(landing),)):
        return RunState(load_config(overrides=[f"lakehouse={lake}", *overrides]), "job", inputs, tables)

    return landing, lake, state


def test_delta_version_reads_the_latest_commit(tmp_path):
    assert delta_version(f"file:{tmp_path}/none") is None
    commit(tmp_path / "t", 0)
    commit(tmp_path / "t", 11)
    (tmp_path / "t" / "_delta_log" / "00000000000000000012.checkpoint.parquet").write_text("")
    (tmp_path / "t" / "_delta_log" / "00000000000000000012.crc").write_text("")
    assert delta_version(f"file:{tmp_path}/t") == 11


def test_unchanged_only_after_a_recorded_run(setup):
    landing, lake, state = setup
    assert state().unchanged() is None  # no state yet
    state().record("run-1")
    assert state().unchanged()["run_id"] == "run-1"
    # where reports go does not change what the job computes
    assert state("reports_dir=/elsewhere").unchanged() is not None


@pytest.mark.parametrize(
    "change", ["new_file", "touched", "resized", "removed", "hidden_file", "table_written", "table_gone", "config"]
)
def test_any_change_takes_the_full_path(setup, change):
    landing, lake, state = setup
    state().record("run-1")
    overrides = []
    a = landing / "d" / "a.txt"
    if change == "new_file":
        (landing / "d" / "c.txt").write_text("新")
    elif change == "touched":
        os.utime(a, (a.stat().st_atime, a.stat().st_mtime + 1))
    elif change == "resized":
        a.write_text("好好")
    elif change == "removed":
        a.unlink()
    elif change == "hidden_file":  # hidden files are not input: still unchanged
        (landing / "d" / "_SUCCESS").write_text("")
    elif change == "table_written":
        commit(lake / "silver" / "reviews", 1)
    elif change == "table_gone":
        (lake / "silver" / "reviews" / "_delta_log" / f"{0:020d}.json").unlink()
    elif change == "config":
        overrides = ["dedupe.threshold=0.7"]
    unchanged = state(*overrides).unchanged()
    assert (unchanged is not None) == (change == "hidden_file")


def test_remote_or_glob_inputs_never_skip(setup, tmp_path):
    landing, lake, state = setup
    for inputs in ([str(landing / "*")], ["hdfs://nn/landing"], [str(tmp_path / "missing")]):
        s = state(inputs=inputs)
        s.record("run-1")
        assert s.unchanged() is None
    remote = RunState(
        load_config(overrides=["lakehouse=s3a://bucket/lake"]), "job", [str(landing)], {"t": "s3a://bucket/lake/t"}
    )
    remote.record("run-1")  # nothing written, nothing skipped
    assert remote.unchanged() is None and remote.path is None

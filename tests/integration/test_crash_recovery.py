"""A clean_reviews run that fails right after any one of its commits, then is rerun, ends with the
same tables as an uninterrupted run: nothing lost, nothing twice. The failure is injected in
process (the Delta write raises as soon as it has committed to the table); the real thing, SIGKILL
of the whole spark-submit process group at three of these points, is tests/system/test_crash_kill.py."""

from __future__ import annotations

import contextlib

import pytest
from chispa import assert_df_equality

from reviewlake.core import delta_io, tables
from reviewlake.jobs import clean_reviews
from tests.conftest import Lake
from tests.integration.helpers import CLEAN_REVIEWS_TABLES, comparable

COMMITS = CLEAN_REVIEWS_TABLES  # every commit of a first run, in the order the job makes them
WRITERS = {"overwrite": 1, "append": 1, "merge": 2, "apply_changes": 2}  # position of the table URI argument


class InjectedFailure(RuntimeError):
    pass


@contextlib.contextmanager
def failing_after_commit_to(monkeypatch, uri: str):
    """Within the block, the first Delta write to ``uri`` commits and then raises; yields a list
    that holds the URI once the failure was injected."""
    hit: list[str] = []
    with monkeypatch.context() as m:
        for name, position in WRITERS.items():
            real = getattr(delta_io, name)

            def write(*args, _real=real, _position=position, **kwargs):
                out = _real(*args, **kwargs)
                target = kwargs.get("uri", args[_position] if len(args) > _position else None)
                if target == uri and not hit:
                    hit.append(uri)
                    raise InjectedFailure(f"injected failure after the commit to {uri}")
                return out

            m.setattr(delta_io, name, write)
        yield hit


# 8 job runs in one test: 166-175 s in the clean-clone CI runs of 2026-12-02, the slowest test of
# `make test`, which reached 9 min 56 s of its 10: a job run many times, so the system tier. A test
# stopped by pytest-timeout mid py4j call breaks the shared session for every later test, so this
# one gets room.
@pytest.mark.system
@pytest.mark.timeout(900)
def test_failure_after_each_commit_then_rerun_equals_an_uninterrupted_run(spark, small_landing, tmp_path, monkeypatch):
    landing = small_landing
    baseline, lake = Lake.at(tmp_path / "baseline"), Lake.at(tmp_path / "crashed")
    assert clean_reviews.main(["--input", str(landing), *baseline.args]) == 0
    # one run fails after each commit point in turn; each picks up what the failed one left
    for layer, name in COMMITS:
        uri = tables.uri(lake.cfg, layer, name)
        with failing_after_commit_to(monkeypatch, uri) as hit:
            assert clean_reviews.main(["--input", str(landing), *lake.args]) == 1
        assert hit == [uri], f"the run ended before committing to {layer}/{name}"
        spark.catalog.clearCache()  # a new process would start without the failed run's cache
    assert clean_reviews.main(["--input", str(landing), *lake.args]) == 0
    for layer, name in COMMITS:
        assert_df_equality(
            comparable(spark, lake.root / "lakehouse", layer, name),
            comparable(spark, baseline.root / "lakehouse", layer, name),
            ignore_row_order=True,
            ignore_column_order=True,
            ignore_nullable=True,
        )
    assert set(clean_reviews.table_uris(lake.cfg).values()) == {tables.uri(lake.cfg, *c) for c in COMMITS}

"""The pure decisions of table maintenance (reviewlake/lake/maintenance.py): table names, Z-order
config, VACUUM retention safety, Z-order skipping, history formatting."""

from __future__ import annotations

import pytest

from reviewlake.core.config import load_config
from reviewlake.errors import ConfigError
from reviewlake.lake import maintenance as m


def test_table_names_and_their_writers():
    assert (
        m.table_name("silver/reviews")
        == m.table_name("silver.reviews")
        == m.table_name("/silver/reviews/")
        == "silver/reviews"
    )
    for bad in ("reviews", "platinum/x", "silver/", "silver/a/b", "silver/../x"):
        with pytest.raises(ConfigError):
            m.table_name(bad)
    assert m.writer_job("bronze/files") == m.writer_job("silver/disposition") == "clean_reviews"
    assert m.writer_job("gold/features") == "build_features"
    assert m.writer_job("gold/predictions") == "score_reviews"


def test_zorder_columns_nested_flat_and_defaults():
    assert m.zorder_columns({"silver": {"reviews": ["batch_id"]}}, "silver/reviews") == ["batch_id"]
    assert m.zorder_columns({"silver.reviews": "batch_id"}, "silver/reviews") == ["batch_id"]
    assert m.zorder_columns({"silver": {"reviews": ["batch_id"]}}, "silver/disposition") == []
    assert m.zorder_columns(None, "gold/vocab") == []
    defaults = load_config().maintenance.zorder
    assert m.zorder_columns(defaults, "silver/reviews") == ["batch_id"]
    assert m.zorder_columns(defaults, "gold/predictions") == ["model_version"]
    with pytest.raises(ConfigError, match="no column nope"):
        m.check_zorder("silver/reviews", ["nope"], ["review_id", "batch_id"], [])
    with pytest.raises(ConfigError, match="partition column"):
        m.check_zorder("silver/reviews", ["batch_id"], ["review_id", "batch_id"], ["batch_id"])


def test_retention_floor_from_the_table_property():
    assert m.interval_hours("interval 7 days") == 168
    assert m.interval_hours("interval 1 week") == 168
    assert m.interval_hours("INTERVAL 36 HOURS") == 36
    assert m.interval_hours("interval 90 minutes") == 1.5
    assert m.interval_hours("7 fortnights") is None and m.interval_hours(None) is None
    assert m.retention_floor_hours({}) == 168
    assert m.retention_floor_hours({"delta.deletedFileRetentionDuration": "interval 2 days"}) == 48


def test_retention_under_the_floor_is_refused_unless_the_check_is_off():
    m.check_retention("silver/reviews", 168, 168, check_enabled=True)
    m.check_retention("silver/reviews", 500, 168, check_enabled=True)
    with pytest.raises(ConfigError) as err:
        m.check_retention("silver/reviews", 24, 168, check_enabled=True)
    assert "retentionDurationCheck.enabled=false" in str(err.value) and "168 h" in str(err.value)
    m.check_retention("silver/reviews", 0, 168, check_enabled=False)
    with pytest.raises(ConfigError):
        m.check_retention("silver/reviews", -1, 168, check_enabled=False)


def commit(op: str, zorder: str | None = None) -> dict:
    return {"operation": op, "operationParameters": {"zOrderBy": zorder} if zorder else {}}


def test_zorder_is_skipped_only_while_the_table_is_unchanged_since():
    assert m.zorder_is_current(
        [commit("VACUUM END"), commit("VACUUM START"), commit("OPTIMIZE", '["batch_id"]'), commit("MERGE")],
        ["batch_id"],
    )
    assert not m.zorder_is_current([commit("MERGE"), commit("OPTIMIZE", '["batch_id"]')], ["batch_id"])
    assert not m.zorder_is_current([commit("OPTIMIZE", '["batch_id"]')], ["source_file"])
    assert not m.zorder_is_current([commit("OPTIMIZE", "[]")], ["batch_id"])  # a compaction
    assert not m.zorder_is_current([], ["batch_id"])


def test_format_history():
    rows = [
        {
            "version": 3,
            "timestamp": "2026-11-27 02:31:07.123",
            "operation": "RESTORE",
            "operationParameters": {"version": "1", "timestamp": None},
            "operationMetrics": {"numRestoredFiles": "2", "numRemovedFiles": "4"},
            "userMetadata": '{"bronze_version": 5}',
        },
        {
            "version": 2,
            "timestamp": "2026-11-27 02:30:00",
            "operation": "MERGE",
            "operationParameters": {},
            "operationMetrics": {"numTargetRowsInserted": "10", "numTargetRowsUpdated": "0"},
            "userMetadata": None,
        },
    ]
    text = m.format_history(rows).splitlines()
    assert text[0].split()[:3] == ["version", "timestamp", "operation"]
    assert text[1].split()[:4] == ["3", "2026-11-27", "02:31:07", "RESTORE"]
    assert "version=1" in text[1] and "numRemovedFiles=4" in text[1] and '{"bronze_version": 5}' in text[1]
    assert "numTargetRowsInserted=10" in text[2] and "numTargetRowsUpdated" not in text[2]


def test_silver_tables_keep_deletion_vectors_while_the_settings_want_them():
    assert m.keeps_deletion_vectors("silver/reviews", silver_has_them=True, session_default=False)
    assert not m.keeps_deletion_vectors("silver/reviews", silver_has_them=False, session_default=False)
    assert not m.keeps_deletion_vectors("bronze/reviews_raw", silver_has_them=True, session_default=False)
    assert m.keeps_deletion_vectors("gold/features", silver_has_them=False, session_default=True)


def test_silver_files_are_compacted_to_the_bytes_of_rows_per_file():
    assert m.file_bytes_bound("silver/reviews", table_bytes=1_000_000, rows=2_000, rows_per_file=100) == 50_000
    assert m.file_bytes_bound("silver/dedupe_index", table_bytes=10, rows=3, rows_per_file=1) == 4  # rounded up
    assert m.file_bytes_bound("gold/features", table_bytes=1_000_000, rows=2_000, rows_per_file=100) is None
    assert m.file_bytes_bound("silver/reviews", table_bytes=0, rows=0, rows_per_file=100) is None  # empty table

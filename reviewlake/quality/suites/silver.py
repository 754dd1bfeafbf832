"""Suites for the change sets of ``silver.reviews`` and ``silver.disposition``.

They validate the rows a run upserts, not the tables as they will be: a row the run does not touch
passed the gate of the run that wrote it. What only the whole table can tell is checked without
reading it again: uniqueness of ``review_id`` follows from the MERGE on that key (the change set's
ids are unique), a new ``text_hash`` must not clash with a published row the run keeps
(``clashes_with``, see :func:`reviewlake.jobs.clean_reviews.silver_audit_view`), and the table's
row count comes from the figures the run computes for its invariant (``min_rows``).
"""

from __future__ import annotations

from reviewlake.core.settings import Settings
from reviewlake.text.signals import COUNTS, SCORES

OUTCOMES = ["kept", "exact_duplicate", "near_duplicate", "filtered"]


def min_rows(cfg: Settings) -> int:
    """The fewest rows ``silver.reviews`` may hold after a run."""
    return cfg.quality.silver.min_rows


def reviews(cfg: Settings) -> list:
    import great_expectations.expectations as gxe  # lazy: importing GX costs seconds

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="review_id"),
        gxe.ExpectColumnValuesToBeUnique(column="review_id"),
        gxe.ExpectColumnValuesToNotBeNull(column="text"),
        gxe.ExpectColumnValuesToBeUnique(column="text_hash"),
        # the published row (kept by this run) whose text_hash the upserted row repeats
        gxe.ExpectColumnValuesToBeNull(column="clashes_with"),
        gxe.ExpectColumnValuesToBeInSet(column="label", value_set=list(cfg.labels.classes)),
        gxe.ExpectColumnValuesToBeBetween(
            column="char_len", min_value=cfg.clean.min_chars, max_value=cfg.clean.max_chars
        ),
        gxe.ExpectColumnValuesToBeBetween(column="token_count", min_value=0),
        # soft signals: scores in [0, 1], cluster counts (null ids do not count, so 0 is possible),
        # flags never null and each a known name (``unknown_flag``: the first that is not, see
        # :func:`reviewlake.lake.silver.silver_audit_view`)
        *[e for column in SCORES for e in _not_null_between(gxe, column, 0, 1)],
        *[e for column in COUNTS for e in _not_null_between(gxe, column, 0, None)],
        gxe.ExpectColumnValuesToNotBeNull(column="quality_flags"),
        gxe.ExpectColumnValuesToBeNull(column="unknown_flag"),
    ]


def _not_null_between(gxe, column: str, lo: float, hi: float | None) -> list:
    return [
        gxe.ExpectColumnValuesToNotBeNull(column=column),
        gxe.ExpectColumnValuesToBeBetween(column=column, min_value=lo, max_value=hi),
    ]


def disposition(cfg: Settings) -> list:
    import great_expectations.expectations as gxe  # lazy: importing GX costs seconds

    return [
        gxe.ExpectColumnValuesToNotBeNull(column="review_id"),
        gxe.ExpectColumnValuesToBeUnique(column="review_id"),
        gxe.ExpectColumnValuesToBeInSet(column="outcome", value_set=OUTCOMES),
        # null for kept rows; otherwise the cleaning rule or the dedupe kind that removed the row
        gxe.ExpectColumnValuesToBeInSet(column="rule", value_set=[*cfg.clean.rules, "exact", "near", "label_conflict"]),
    ]
